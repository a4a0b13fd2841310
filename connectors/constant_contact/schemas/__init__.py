"""JSON Schemas of the activities' records, derived from the official V3 contract.

The contract (``constant-contact-v3-swagger.yaml`` beside this file) is the source of truth;
``contract.definition_schema`` bundles one definition, and here we inline its ``$ref``s,
add a human title to every property (for the schema review tree and the mapping editor),
and drop read-only properties from request shapes. Generated at import time from the
vendored file, so a contract update changes the schemas with no generated files to forget.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from connectors.constant_contact.contract import definition_schema

SCHEMA_DIALECT = "http://json-schema.org/draft-04/schema#"
# Title-casing property names reads badly for a few; the rest become "First name" etc.
_TITLES = {
    "contact_id": "Contact ID",
    "sms_channel": "SMS channel",
    "custom_field_id": "Custom field ID",
    "list_memberships": "List memberships (list IDs)",
    "taggings": "Tags (tag IDs)",
    "email_address": "Email address",
    "email": "Email",
}


def title_for(name: str) -> str:
    if name in _TITLES:
        return _TITLES[name]
    words = name.replace("cf:", "custom field ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _inline(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Replace every ``$ref`` by a copy of its definition (the contact shapes are acyclic;
    a cycle, should one appear, is cut at the second visit)."""
    if isinstance(node, list):
        return [_inline(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        name = ref.removeprefix("#/definitions/")
        if name in seen:
            return {"type": "object", "description": f"(recursive {name})"}
        target = _inline(definitions[name], definitions, (*seen, name))
        # Sibling keys (a description next to the $ref) win over the definition's.
        extra = {k: v for k, v in node.items() if k != "$ref"}
        return {**target, **_inline(extra, definitions, seen)}
    return {key: _inline(value, definitions, seen) for key, value in node.items()}


def _add_titles(schema: dict[str, Any]) -> dict[str, Any]:
    for name, prop in (schema.get("properties") or {}).items():
        prop.setdefault("title", title_for(name))
        _add_titles(prop)
    items = schema.get("items")
    if isinstance(items, dict):
        _add_titles(items)
    return schema


def _drop_read_only(schema: dict[str, Any]) -> dict[str, Any]:
    """Request shapes: read-only properties can't be sent, so they are not offered."""
    props = schema.get("properties")
    if isinstance(props, dict):
        for name in [n for n, p in props.items() if isinstance(p, dict) and p.get("readOnly")]:
            del props[name]
        for prop in props.values():
            _drop_read_only(prop)
        if "required" in schema:
            schema["required"] = [r for r in schema["required"] if r in props]
    items = schema.get("items")
    if isinstance(items, dict):
        items.pop("readOnly", None)  # list ids are marked read-only but are what we send
        _drop_read_only(items)
    return schema


@functools.cache
def _contract_schema(name: str) -> dict[str, Any]:
    bundled = definition_schema(name)
    definitions = bundled.pop("definitions", {})
    bundled.pop("$schema", None)
    schema = _add_titles(_inline(bundled, definitions))
    schema.setdefault("title", title_for(name))
    return schema


def contract_schema(name: str, *, request: bool = False) -> dict[str, Any]:
    """A self-contained schema for contract definition ``name`` (a fresh copy)."""
    schema = copy.deepcopy(_contract_schema(name))
    if request:
        _drop_read_only(schema)
    return {"$schema": SCHEMA_DIALECT, **schema}


# ------------------------------------------------------------------ the activities' shapes


def contact_resource_schema() -> dict[str, Any]:
    """One contact as Query yields it (the contract's ContactResource)."""
    schema = contract_schema("ContactResource")
    schema["title"] = "Contact"
    return schema


def create_contact_schema() -> dict[str, Any]:
    """POST /contacts body; ``create_source`` comes from the activity's configuration."""
    schema = contract_schema("ContactPostRequest", request=True)
    schema["properties"].pop("create_source", None)
    schema["title"] = "Contact to create"
    schema["required"] = ["email_address"]
    return schema


def sign_up_form_schema() -> dict[str, Any]:
    """POST /contacts/sign_up_form body (create or update by email address)."""
    schema = contract_schema("ContactCreateOrUpdateInput", request=True)
    schema["title"] = "Contact to create or update"
    # The activity's configured list ids fill list_memberships when a record has none.
    schema["required"] = ["email_address"]
    return schema


def bulk_import_row_schema() -> dict[str, Any]:
    """One row of POST /activities/contacts_json_import (the contract's flat shape)."""
    schema = contract_schema("JsonImportContact", request=True)
    custom = schema["properties"].pop("cf:custom_field_name", None)
    if custom is not None:
        custom.pop("title", None)
        schema["patternProperties"] = {"^cf:": custom}
    schema["title"] = "Contact to import"
    schema["required"] = ["email"]
    # Only the import's own columns (and cf: custom fields): Constant Contact may refuse a
    # whole chunk for one row with a column it does not know.
    schema["additionalProperties"] = False
    return schema


def contact_id_property(description: str) -> dict[str, Any]:
    """A record's ``contact_id`` field: what each activity says of it differs, the rest not."""
    return {"type": "string", "format": "uuid", "title": "Contact ID", "description": description}


def contact_id_schema(description: str) -> dict[str, Any]:
    """A target's record that is only a contact's id (memberships, tracking look-ups)."""
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Contact",
        "type": "object",
        "properties": {"contact_id": contact_id_property(description)},
        "required": ["contact_id"],
    }


def update_contact_schema() -> dict[str, Any]:
    """PUT /contacts/{contact_id} body plus how to find the contact."""
    schema = contract_schema("ContactPutRequest", request=True)
    schema["properties"].pop("update_source", None)
    schema["properties"] = {
        "contact_id": contact_id_property(
            "The contact to update (or leave empty and match by email address)."
        ),
        **schema["properties"],
    }
    schema["required"] = []
    schema["title"] = "Contact to update"
    return schema


def delete_contact_schema() -> dict[str, Any]:
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Contact to delete",
        "type": "object",
        "properties": {
            "contact_id": contact_id_property("Unique ID of the contact to delete."),
            "email_address": {
                "type": "string",
                "maxLength": 80,
                "title": "Email address",
                "description": "Used to find the contact when no contact ID is given.",
            },
        },
    }


def record_result_schema() -> dict[str, Any]:
    """What a target reports per record (connectors.base.RecordResult)."""
    text = {"type": "string"}
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Result",
        "type": "object",
        "properties": {
            "ok": {"type": "boolean", "title": "Succeeded"},
            "key": {**text, "title": "Record", "description": "Email address or contact ID."},
            "external_id": {**text, "title": "Contact ID"},
            "action": {
                **text,
                "title": "Action",
                "enum": [
                    "created",
                    "updated",
                    "imported",
                    "deleted",
                    "skipped",
                    "added",  # to lists or tags (issue 14)
                    "removed",
                    "renamed",
                    "",
                ],
            },
            "error_key": {**text, "title": "Error key"},
            "error_message": {**text, "title": "Error message"},
        },
        "required": ["ok"],
    }
