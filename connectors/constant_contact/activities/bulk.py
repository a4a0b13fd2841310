"""Bulk activities: chunking to Constant Contact's limits, and per-row outcomes.

Bulk endpoints answer for a whole chunk at once (an activity, polled until it ends) with
free-text ``activity_errors``; we turn them back into one result per input row, matching
each message to its row by line number ("Line 3: ...", 1-based in ``import_data``), by
email address, or by contact id. Rows no message names are done.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.base import RecordResult

MAX_IMPORT_ROWS = 40_000
# "Under 4 MB": we stay under the smaller reading (4,000,000 bytes, not 4 MiB) and count
# the exact bytes ``json.dumps`` will send, envelope included.
MAX_IMPORT_BYTES = 4_000_000
MAX_DELETE_IDS = 500
_LINE = re.compile(r"\b(?:line|row)\s*#?\s*(\d+)", re.IGNORECASE)
_EMAIL = re.compile(r"[^\s'\"<>(),;:]+@[^\s'\"<>(),;:]+")


def import_envelope_size(list_ids: Sequence[str]) -> int:
    """Bytes of ``{"import_data": [], "list_ids": [...]}`` with no rows."""
    return len(json.dumps({"import_data": [], "list_ids": list(list_ids)}))


def chunk_rows(
    rows: Sequence[dict[str, Any]],
    *,
    list_ids: Sequence[str],
    max_rows: int = MAX_IMPORT_ROWS,
    max_bytes: int = MAX_IMPORT_BYTES,
) -> Iterator[range]:
    """Index ranges of ``rows`` whose import request stays within both limits.

    A single row too large on its own still gets a chunk of its own (Constant Contact will
    refuse it, and that becomes that row's failure rather than a silent drop).
    """
    envelope = import_envelope_size(list_ids)
    start = 0
    size = envelope
    for index, row in enumerate(rows):
        # json.dumps joins list items with ", " - 2 bytes between rows.
        row_size = len(json.dumps(row)) + (2 if index > start else 0)
        if index > start and (index - start >= max_rows or size + row_size >= max_bytes):
            yield range(start, index)
            start, size = index, envelope
            row_size = len(json.dumps(row))
        size += row_size
    if start < len(rows):
        yield range(start, len(rows))


def chunk_ids(count: int, size: int = MAX_DELETE_IDS) -> Iterator[range]:
    for start in range(0, count, size):
        yield range(start, min(count, start + size))


@dataclass(frozen=True)
class RowRef:
    key: str  # how the log shows the row (email, contact id)
    email: str = ""
    contact_id: str = ""


def match_errors(errors: Sequence[Any], rows: Sequence[RowRef]) -> dict[int, str]:
    """Row index (0-based, within ``rows``) -> its error message(s)."""
    by_email: dict[str, int] = {}
    by_id: dict[str, int] = {}
    for index, row in enumerate(rows):
        if row.email:
            by_email.setdefault(row.email.lower(), index)
        if row.contact_id:
            by_id.setdefault(row.contact_id.lower(), index)
    matched: dict[int, str] = {}
    for raw in errors:
        message = raw.get("message", "") if isinstance(raw, dict) else str(raw)
        index = _row_of(message, len(rows), by_email, by_id)
        if index is not None:
            matched[index] = f"{matched[index]}; {message}" if index in matched else message
    return matched


def _row_of(
    message: str, count: int, by_email: dict[str, int], by_id: dict[str, int]
) -> int | None:
    line = _LINE.search(message)
    if line and 1 <= int(line.group(1)) <= count:
        return int(line.group(1)) - 1
    for candidate in _EMAIL.findall(message):
        index = by_email.get(candidate.strip(".").lower())
        if index is not None:
            return index
    lowered = message.lower()
    for contact_id, index in by_id.items():
        if contact_id in lowered:
            return index
    return None


def activity_results(
    activity: dict[str, Any], rows: Sequence[RowRef], *, action: str, error_key: str
) -> list[RecordResult]:
    """One result per row from a finished activity."""
    state = activity.get("state")
    errors = activity.get("activity_errors") or []
    if state != "completed":
        detail = "; ".join(str(e) for e in errors[:3]) or f"the activity ended {state}"
        message = f"Bulk activity {activity.get('activity_id', '')} {state}: {detail}"
        return [
            RecordResult.failed(key=r.key, error_key=f"activity_{state}", error_message=message)
            for r in rows
        ]
    failures = match_errors(errors, rows)
    results = []
    for index, row in enumerate(rows):
        if index in failures:
            results.append(
                RecordResult.failed(key=row.key, error_key=error_key, error_message=failures[index])
            )
        else:
            results.append(
                RecordResult.done(key=row.key, external_id=row.contact_id, action=action)
            )
    return results


def unmatched_errors(errors: Sequence[Any], rows: Sequence[RowRef]) -> list[str]:
    """Messages that named no row (logged, so nothing Constant Contact said is lost)."""
    by_email = {r.email.lower(): i for i, r in enumerate(rows) if r.email}
    by_id = {r.contact_id.lower(): i for i, r in enumerate(rows) if r.contact_id}
    out = []
    for raw in errors:
        message = raw.get("message", "") if isinstance(raw, dict) else str(raw)
        if _row_of(message, len(rows), by_email, by_id) is None:
            out.append(message)
    return out
