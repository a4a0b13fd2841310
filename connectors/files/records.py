"""The unreadable-record marker, as the Files readers and writer use it.

It belongs to the connector contract (``connectors.base``): any source may yield a record it
could not read, and the mapping and every target fail exactly that record. Kept here as names
for the Files modules' existing imports.
"""

from __future__ import annotations

from connectors.base import RAW_PREVIEW, RECORD_ERROR, RECORD_RAW, error_record, read_error

__all__ = ["RAW_PREVIEW", "RECORD_ERROR", "RECORD_RAW", "error_record", "read_error"]
