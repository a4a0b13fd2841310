"""Conventions shared by the Files readers, writers and the mapping layer.

A source can only yield records, so a row that could not be read (ragged, badly quoted, not
valid in the file's encoding) is still yielded, as a record carrying ``RECORD_ERROR``: the
mapping (``designer.transformations.mapping``) and the Files writer fail exactly that record
with the message, and the rest of the file goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RECORD_ERROR = "__error__"  # why this record could not be read
RECORD_RAW = "__raw__"  # the start of what was read, to help find it in the file
RAW_PREVIEW = 200


def error_record(message: str, raw: Any = "") -> dict[str, Any]:
    text = raw if isinstance(raw, str) else repr(raw)
    return {RECORD_ERROR: message, RECORD_RAW: text[:RAW_PREVIEW]}


def read_error(record: Any) -> str:
    """The read error carried by a record, or ""."""
    if isinstance(record, Mapping):
        value = record.get(RECORD_ERROR)
        return str(value) if value else ""
    return ""
