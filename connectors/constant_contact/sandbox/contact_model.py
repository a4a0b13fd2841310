"""The contact record: its shape in the store, how the API shows it, and its sub-resources.

Contacts are held as dicts in the contract's ContactResource shape with every
sub-resource present, plus internal keys starting with `_` (sequence number, epoch
times, deleted flag) that never leave the sandbox.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from .clock import iso

SUBRESOURCES = (
    "custom_fields",
    "list_memberships",
    "phone_numbers",
    "street_addresses",
    "taggings",
    "notes",
    "sms_channel",
)
SCALARS = (
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "birthday_month",
    "birthday_day",
    "anniversary",
)
SOURCES = ("Contact", "Account")
EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z0-9-]{2,}$")
ACTIVE_PERMISSIONS = ("implicit", "explicit")


def is_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 80 and bool(EMAIL_RE.match(value))


# ---------------------------------------------------------------------- shaping


def _copy_without_nulls(value: Any) -> Any:
    """A deep copy that leaves out nulls: Constant Contact omits unset properties."""
    if isinstance(value, dict):
        return {k: _copy_without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_copy_without_nulls(v) for v in value]
    return value


def shape(contact: dict[str, Any], include: set[str]) -> dict[str, Any]:
    """The contact as the API returns it: sub-resources only when asked for.

    Always a copy, so the caller may serialise it after the sandbox lock is released.
    """
    out: dict[str, Any] = {}
    for key, value in contact.items():
        if key.startswith("_") or value is None:
            continue
        if key in SUBRESOURCES and key not in include:
            continue
        out[key] = _copy_without_nulls(value)
    for key in include:
        if key in SUBRESOURCES and key not in out and key != "sms_channel":
            out[key] = []
    return out


def new_contact(now: float, create_source: str, contact_id: str | None = None) -> dict[str, Any]:
    return {
        "contact_id": contact_id or str(uuid.uuid4()),
        "email_address": None,
        "first_name": None,
        "last_name": None,
        "job_title": None,
        "company_name": None,
        "birthday_month": None,
        "birthday_day": None,
        "anniversary": None,
        "update_source": create_source,
        "create_source": create_source,
        "created_at": iso(now),
        "updated_at": iso(now),
        "deleted_at": None,
        "custom_fields": [],
        "phone_numbers": [],
        "street_addresses": [],
        "list_memberships": [],
        "taggings": [],
        "notes": [],
        "sms_channel": None,
        "_created": now,
        "_updated": now,
        "_optout": None,
        "_deleted": False,
    }


def phone_resource(number: str | None, kind: str | None, now: float, source: str) -> dict[str, Any]:
    return {
        "phone_number_id": str(uuid.uuid4()),
        "phone_number": number,
        "kind": kind or "other",
        "created_at": iso(now),
        "updated_at": iso(now),
        "update_source": source,
        "create_source": source,
    }


def address_resource(address: Mapping[str, Any], now: float) -> dict[str, Any]:
    keys = ("kind", "street", "city", "state", "postal_code", "country")
    return {
        "street_address_id": str(uuid.uuid4()),
        **{k: address.get(k) for k in keys if address.get(k) is not None},
        "created_at": iso(now),
        "updated_at": iso(now),
    }


def sms_resource(channel: Mapping[str, Any], source: str) -> dict[str, Any]:
    full = channel.get("full_sms_address") or (
        str(channel.get("dial_code", "")) + str(channel.get("sms_address", ""))
    )
    consents = [
        {
            "sms_consent_permission": c.get("sms_consent_permission", "not_set"),
            "consent_type": c.get("consent_type", "promotional_sms"),
        }
        for c in channel.get("sms_channel_consents") or []
    ]
    return {
        "sms_channel_id": str(uuid.uuid4()),
        "sms_address": channel.get("sms_address") or full[-10:],
        "dial_code": channel.get("dial_code") or "1",
        "country_code": channel.get("country_code") or "US",
        "update_source": source,
        "create_source": source,
        "sms_channel_consents": consents,
    }


# ---------------------------------------------------------------------- reading

# Query parameters that define the result set (a cursor remembers them).
