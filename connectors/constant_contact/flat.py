"""A flat record shape for mapping from tables: one column per value.

The contract's contact nests phones, addresses and custom fields in arrays of objects,
which a spreadsheet or CSV can't map column by column. Activities can offer this flat
shape instead ("Record shape: flat"); each record is converted to the contract's shape
before it is checked and sent, so the contract stays the one truth about what is valid.

Columns: ``email``, the contact's scalars, ``<kind>_phone`` (home, work, mobile, other),
``<kind>_<part>`` addresses (home, work, other x street, city, state, postal_code,
country), ``list_ids`` and ``tag_ids`` (lists or comma-separated text) and
``custom_field:<custom field id>`` for custom field values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Field, FieldKind, TargetFieldPicker
from connectors.constant_contact.schemas import SCHEMA_DIALECT, contract_schema

# The contact's scalar properties (ContactPutRequest's non-object, non-array ones, less the
# update_source marker): flat records carry them, and an update's PUT, which overwrites with
# null every scalar it omits, copies them from the stored contact first.
CONTACT_SCALARS = (
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "birthday_month",
    "birthday_day",
    "anniversary",
)
PHONE_KINDS = ("home", "work", "mobile", "other")
ADDRESS_KINDS = ("home", "work", "other")
ADDRESS_PARTS = ("street", "city", "state", "postal_code", "country")
CUSTOM_FIELD_PREFIX = "custom_field:"
FLAT = "flat"
CONTRACT = "contract"
RECORD_SHAPE_FIELD = Field(
    "record_shape",
    "Record shape",
    FieldKind.CHOICE,
    default=CONTRACT,
    choices=(
        (CONTRACT, "Constant Contact's own (nested phones, addresses, custom fields)"),
        (FLAT, "Flat columns (home_phone, work_city, custom_field:<id>, ...)"),
    ),
    help="Flat is easier to map from a table; bulk import is always flat.",
)


def _ids(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [str(item).strip() for item in items if str(item).strip()]


def flat_schema(*, contact_id: bool = False) -> dict[str, Any]:
    """The flat shape, with titles, descriptions and limits taken from the contract."""
    post = contract_schema("ContactPostRequest", request=True)["properties"]
    email = post["email_address"]["properties"]["address"]
    phone = post["phone_numbers"]["items"]["properties"]["phone_number"]
    address = post["street_addresses"]["items"]["properties"]
    props: dict[str, Any] = {}
    if contact_id:
        props["contact_id"] = {
            "type": "string",
            "format": "uuid",
            "title": "Contact ID",
            "description": "The contact to update (or leave empty and match by email).",
        }
    props["email"] = {**email, "title": "Email address"}
    for name in CONTACT_SCALARS:
        props[name] = post[name]
    for kind in PHONE_KINDS:
        props[f"{kind}_phone"] = {**phone, "title": f"{kind.capitalize()} phone"}
    for kind in ADDRESS_KINDS:
        for part in ADDRESS_PARTS:
            title = f"{kind.capitalize()} {part.replace('_', ' ')}"
            props[f"{kind}_{part}"] = {**address[part], "title": title}
    id_list = {"type": ["string", "array"], "items": {"type": "string"}}
    props["list_ids"] = {
        **id_list,
        "title": "List IDs",
        "description": post["list_memberships"]["description"] + " (comma-separated)",
    }
    props["tag_ids"] = {
        **id_list,
        "title": "Tag IDs",
        "description": post["taggings"]["description"] + " (comma-separated)",
    }
    custom = post["custom_fields"]["items"]["properties"]["value"]
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Contact (flat)",
        "type": "object",
        "properties": props,
        "patternProperties": {
            f"^{CUSTOM_FIELD_PREFIX}": {
                **custom,
                "title": "Custom field",
                "description": "Column custom_field:<custom field id, name or label>; "
                + custom["description"],
            }
        },
    }


def to_contact(row: Mapping[str, Any], *, sign_up_form: bool = False) -> dict[str, Any]:
    """The contract's shape of a flat row (ContactPostRequest / PutRequest, or the
    sign-up form's ContactCreateOrUpdateInput, which takes one phone and one address)."""
    out: dict[str, Any] = {k: row[k] for k in ("contact_id", *CONTACT_SCALARS) if k in row}
    if row.get("email"):
        address = str(row["email"]).strip()
        out["email_address"] = address if sign_up_form else {"address": address}
    phones = [
        {"kind": kind, "phone_number": row[f"{kind}_phone"]}
        for kind in PHONE_KINDS
        if row.get(f"{kind}_phone") not in (None, "")
    ]
    addresses = []
    for kind in ADDRESS_KINDS:
        parts = {
            part: row[f"{kind}_{part}"]
            for part in ADDRESS_PARTS
            if row.get(f"{kind}_{part}") not in (None, "")
        }
        if parts:
            addresses.append({"kind": kind, **parts})
    if sign_up_form:
        if phones:
            out["phone_number"] = phones[0]["phone_number"]
        if addresses:
            out["street_address"] = addresses[0]
    else:
        if phones:
            out["phone_numbers"] = phones
        if addresses:
            out["street_addresses"] = addresses
    if _ids(row.get("list_ids")):
        out["list_memberships"] = _ids(row.get("list_ids"))
    if _ids(row.get("tag_ids")) and not sign_up_form:
        out["taggings"] = _ids(row.get("tag_ids"))
    custom = [
        {"custom_field_id": key.removeprefix(CUSTOM_FIELD_PREFIX), "value": str(value)}
        for key, value in row.items()
        if key.startswith(CUSTOM_FIELD_PREFIX) and value not in (None, "")
    ]
    if custom:
        out["custom_fields"] = custom
    return out


def custom_field_pickers(config: Mapping[str, Any], *, bulk: bool = False) -> tuple:
    """The mapping editor's custom-field picker for a contact target: by name where names
    work at run time (flat columns ``custom_field:<name>``, resolved once per run; bulk
    import columns ``cf:<name>``), by id in the contract's own shape."""
    if bulk:
        return (TargetFieldPicker("custom_field_names", "Custom fields", "cf:{value}"),)
    if config.get("record_shape") == FLAT:
        path = CUSTOM_FIELD_PREFIX + "{value}"
        return (TargetFieldPicker("custom_field_names", "Custom fields", path),)
    path = "custom_fields[custom_field_id={value}].value"
    return (TargetFieldPicker("custom_fields", "Custom fields", path),)
