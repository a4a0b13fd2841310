"""Custom fields by name in the flat record shape (issue 14).

A flat column ``custom_field:<id>`` may name the field instead of giving its id:
``custom_field:Vehicle_make_and_model_year`` (its name) or ``custom_field:Vehicle make and
model year`` (its label), case-insensitively. The account's custom fields are read once per
run (GET /contact_custom_fields, kept for the RunContext) and each such column is rewritten
to the id; a name the account doesn't have fails that record, naming it.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from connectors.base import RunContext
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.flat import CUSTOM_FIELD_PREFIX

_lock = threading.Lock()
_by_run: dict[int, tuple[weakref.ref[RunContext], dict[str, str]]] = {}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _field_ids(context: RunContext, client: ConstantContactClient) -> dict[str, str]:
    """Lower-cased name and label -> custom_field_id, read once per run."""
    with _lock:
        kept = _by_run.get(id(context))
        if kept is not None and kept[0]() is context:
            return kept[1]
    ids: dict[str, str] = {}
    for page in client.paginate(
        "/contact_custom_fields", {"limit": 100}, items_key="custom_fields"
    ):
        for item in page.get("custom_fields") or []:
            for text in (item.get("label"), item.get("name")):
                if text:
                    ids.setdefault(str(text).strip().lower(), str(item["custom_field_id"]))
    with _lock:
        for key in [k for k, v in _by_run.items() if v[0]() is None]:
            del _by_run[key]
        _by_run[id(context)] = (weakref.ref(context), ids)
    return ids


def resolve(
    context: RunContext, client: ConstantContactClient, row: Mapping[str, Any]
) -> tuple[dict[str, Any], str]:
    """(the row with custom fields named by id, "" or the error naming unknown fields)."""
    named = [
        key
        for key in row
        if key.startswith(CUSTOM_FIELD_PREFIX)
        and not _is_uuid(key.removeprefix(CUSTOM_FIELD_PREFIX).strip())
    ]
    if not named:
        return dict(row), ""
    ids = _field_ids(context, client)
    unknown = [
        key.removeprefix(CUSTOM_FIELD_PREFIX)
        for key in named
        if key.removeprefix(CUSTOM_FIELD_PREFIX).strip().lower() not in ids
    ]
    if unknown:
        shown = ", ".join(repr(u) for u in unknown)
        return dict(row), f"No custom field named {shown} in the account (by name or label)."
    out = {k: v for k, v in row.items() if k not in named}
    for key in named:
        field_id = ids[key.removeprefix(CUSTOM_FIELD_PREFIX).strip().lower()]
        out[CUSTOM_FIELD_PREFIX + field_id] = row[key]
    return out, ""
