"""Records as table rows: the one flattener, and cells made safe for spreadsheets.

Used by the Files connector's CSV writer and by the app's failed-records download, so the same
record gives the same CSV everywhere.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (also a tab or
a carriage return before one) as a formula: a record's ``=HYPERLINK(...)`` becomes a live link
or a command in the reader's spreadsheet ("CSV injection", OWASP). ``spreadsheet_safe`` puts
a single quote before such a cell, which spreadsheets show as text. A plain number (``-5``,
``+1.5e3``) is left alone: it is read as a number, not run.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def flatten(record: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted columns; lists of objects indexed (a.0.b); other lists joined.

    Something that is not an object becomes one column, ``value``.
    """
    if not isinstance(record, Mapping):
        return {prefix.rstrip(".") or "value": cell(record)}
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}" if prefix else str(key)
        if type(value) is str:  # the common case, first and without ABC checks
            out[name] = value
        elif isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            if any(isinstance(item, Mapping | list) for item in value):
                for index, item in enumerate(value):
                    if isinstance(item, Mapping):
                        out.update(flatten(item, f"{name}.{index}."))
                    else:
                        out[f"{name}.{index}"] = cell(item)
            else:
                out[name] = ",".join(cell(item) for item in value)
        else:
            out[name] = cell(value)
    return out


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def spreadsheet_safe(value: Any) -> Any:
    """The cell as text a spreadsheet shows and never runs as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def columns_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every column of the rows, in the order first seen."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def csv_for_people(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV text for a download meant for people: every cell (the header too) made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(name) for name in header])
    for row in rows:
        writer.writerow([spreadsheet_safe(cell(value)) for value in row])
    return out.getvalue()


__all__ = ["cell", "columns_of", "csv_for_people", "flatten", "spreadsheet_safe"]
