"""What the activity forms' pickers offer: the account's lists, tags, custom fields and
segments as (id, label) pairs, read live (the designer caches them per connection)."""

from __future__ import annotations

from typing import Any

from connectors.base import ConnectionContext, ConnectorError
from connectors.constant_contact.client import ConstantContactClient

# kind -> (path, query, items key, id key, how an item is labelled)
PICKERS: dict[str, tuple[str, dict[str, Any], str, str, str]] = {
    "lists": ("/contact_lists", {"limit": 1000}, "lists", "list_id", "name"),
    "tags": ("/contact_tags", {"limit": 500}, "tags", "tag_id", "name"),
    "custom_fields": (
        "/contact_custom_fields",
        {"limit": 100},
        "custom_fields",
        "custom_field_id",
        "label",
    ),
    # The flat record shape names custom fields: custom_field:<name> (custom_field_names.py).
    "custom_field_names": (
        "/contact_custom_fields",
        {"limit": 100},
        "custom_fields",
        "name",
        "label",
    ),
    "segments": (
        "/segments",
        {"limit": "1000", "sort_by": "name"},
        "segments",
        "segment_id",
        "name",
    ),
}
MAX_OPTIONS = 5_000  # a picker is for choosing; beyond this, type or search


def picker_options(connection: ConnectionContext, kind: str) -> list[tuple[str, str]]:
    if kind not in PICKERS:
        raise ConnectorError(f"Constant Contact has no picker for {kind!r}.", permanent=True)
    path, params, items_key, id_key, label_key = PICKERS[kind]
    options: list[tuple[str, str]] = []
    with ConstantContactClient(connection) as client:
        for page in client.paginate(path, params, items_key=items_key):
            for item in page.get(items_key) or []:
                label = str(item.get(label_key) or item.get(id_key))
                if kind.startswith("custom_field") and item.get("name"):
                    label = f"{label} ({item['name']})"  # the name the flat shape uses
                if item.get(id_key):
                    options.append((str(item[id_key]), label))
            if len(options) >= MAX_OPTIONS:
                break
    return sorted(options[:MAX_OPTIONS], key=lambda option: option[1].lower())


def known_objects(connection: ConnectionContext, kind: str) -> set[str]:
    """Every way a value may name an object of ``kind``, lower-cased. Custom fields are
    named by id, name or label (as flat records resolve them at run time), whichever kind."""
    if not kind.startswith("custom_field"):
        return {text.lower() for option in picker_options(connection, kind) for text in option}
    known: set[str] = set()
    with ConstantContactClient(connection) as client:
        for page in client.paginate(
            "/contact_custom_fields", {"limit": 100}, items_key="custom_fields"
        ):
            for item in page.get("custom_fields") or []:
                for key in ("custom_field_id", "name", "label"):
                    if item.get(key):
                        known.add(str(item[key]).strip().lower())
    return known
