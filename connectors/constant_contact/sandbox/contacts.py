"""Contact behaviour: create, replace, delete, sign-up-form upsert, query and shape.

Contacts are held as dicts in the contract's ContactResource shape with every
sub-resource present, plus internal keys starting with `_` (sequence number, epoch
times, deleted flag) that never leave the sandbox.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode

from connectors.constant_contact.contract import parse_datetime

from .clock import iso, iso_date, to_epoch
from .errors import ApiError
from .store import Store, email_of

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
DEFAULT_LIMIT = 50


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


def status_of(contact: dict[str, Any]) -> str:
    """The contact's value in the `status` filter's vocabulary."""
    if contact["_deleted"]:
        return "deleted"
    email = contact.get("email_address") or {}
    permission = email.get("permission_to_send") or "not_set"
    return "active" if permission in ACTIVE_PERMISSIONS else permission


def sms_status_of(contact: dict[str, Any]) -> str:
    channel = contact.get("sms_channel") or {}
    consents = channel.get("sms_channel_consents") or []
    return consents[0].get("sms_consent_permission", "not_set") if consents else "not_set"


# ---------------------------------------------------------------------- writing


class ContactService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- checks shared by create and update ------------------------------------------

    def _check_references(self, body: Mapping[str, Any], problems: list[str]) -> None:
        for list_id in body.get("list_memberships") or []:
            if list_id not in self.store.lists or self.store.lists[list_id].get("_deleted"):
                problems.append(f"list_memberships: list {list_id} does not exist")
        for tag_id in body.get("taggings") or []:
            if tag_id not in self.store.tags:
                problems.append(f"taggings: tag {tag_id} does not exist")
        for field_value in body.get("custom_fields") or []:
            field_id = field_value.get("custom_field_id")
            if field_id not in self.store.custom_fields:
                problems.append(f"custom_fields: custom field {field_id} does not exist")
        month, day = body.get("birthday_month"), body.get("birthday_day")
        if (month is None) != (day is None):
            problems.append("birthday_month and birthday_day must be given together")
        elif month is not None and not (1 <= month <= 12 and 1 <= day <= 31):
            problems.append("birthday_month must be 1-12 and birthday_day 1-31")

    def _check_email(self, body: Mapping[str, Any], problems: list[str]) -> str | None:
        email = body.get("email_address")
        if not isinstance(email, dict):
            return None
        address = email.get("address")
        if not is_email(address):
            problems.append(f"email_address.address: {address!r} is not a valid email address")
            return None
        return address

    def _conflict_if_taken(self, address: str | None, own_id: str | None) -> None:
        if not address:
            return
        other = self.store.contact_by_email(address)
        if other is not None and other["contact_id"] != own_id and not other["_deleted"]:
            raise ApiError.of(
                409,
                f"Email already exists for contact {other['contact_id']}",
                "contacts.api.conflict",
            )

    # -- POST /contacts ------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        problems: list[str] = []
        if body.get("create_source") not in SOURCES:
            problems.append("create_source is required and must be Contact or Account")
        if not any(
            body.get(k) for k in ("first_name", "last_name", "email_address", "sms_channel")
        ):
            problems.append(
                "one of first_name, last_name, email_address or sms_channel is required"
            )
        address = self._check_email(body, problems)
        self._check_references(body, problems)
        if problems:
            raise ApiError.validation(problems)
        self._conflict_if_taken(address, None)
        existing = self.store.contact_by_email(address) if address else None
        now = time.time()
        if existing is not None:  # a deleted contact comes back, keeping its id
            self._revive(existing, now)
            self._apply_full(existing, body, now, source=body["create_source"])
            return 201, existing
        contact = new_contact(now, create_source=body["create_source"])
        self._apply_full(contact, body, now, source=body["create_source"])
        self.store.add_contact(contact)
        return 201, contact

    # -- PUT /contacts/{id} --------------------------------------------------------

    def replace(self, contact_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        contact = self.get(contact_id, allow_deleted=True)
        problems: list[str] = []
        if body.get("update_source") not in SOURCES:
            problems.append("update_source is required and must be Contact or Account")
        address = self._check_email(body, problems)
        if "email_address" not in body and not (
            body.get("sms_channel") or contact.get("sms_channel")
        ):
            problems.append("email_address is required unless the contact has an sms_channel")
        self._check_references(body, problems)
        if problems:
            raise ApiError.validation(problems)
        self._conflict_if_taken(address, contact_id)
        now = time.time()
        if contact["_deleted"]:  # PUT revives a deleted contact, as V3 documents
            self._revive(contact, now)
        old_address = email_of(contact)
        for key in SCALARS:  # PUT overwrites every property it omits with null...
            contact[key] = body.get(key)
        if "email_address" not in body:
            contact["email_address"] = None
        self._apply_full(contact, body, now, source=body["update_source"], creating=False)
        contact["update_source"] = body["update_source"]
        self.store.reindex_email(contact, old_address)
        return contact

    # -- DELETE /contacts/{id} -----------------------------------------------------

    def delete(self, contact_id: str) -> None:
        contact = self.get(contact_id)
        self.mark_deleted(contact, time.time())

    def mark_deleted(self, contact: dict[str, Any], now: float) -> None:
        contact["_deleted"] = True
        contact["deleted_at"] = iso_date(now)
        contact["updated_at"] = iso(now)
        contact["_updated"] = now

    def _revive(self, contact: dict[str, Any], now: float) -> None:
        contact["_deleted"] = False
        contact["deleted_at"] = None
        contact["updated_at"] = iso(now)
        contact["_updated"] = now

    def get(self, contact_id: str, allow_deleted: bool = True) -> dict[str, Any]:
        contact = self.store.contacts.get(contact_id)
        if contact is None or (contact["_deleted"] and not allow_deleted):
            raise ApiError.of(404, f"Contact {contact_id} not found.", "contacts.api.not.found")
        return contact

    # -- POST /contacts/sign_up_form -----------------------------------------------

    def sign_up(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        problems: list[str] = []
        address = body.get("email_address")
        if address is None and not body.get("sms_channel"):
            problems.append("email_address or sms_channel is required")
        if address is not None and not is_email(address):
            problems.append(f"email_address: {address!r} is not a valid email address")
        self._check_references({**body, "custom_fields": body.get("custom_fields")}, problems)
        if problems:
            raise ApiError.validation(problems)
        now = time.time()
        contact = self.store.contact_by_email(address) if address else None
        created = contact is None
        if created:
            contact = new_contact(now, create_source="Contact")
            contact["email_address"] = (
                {"address": address, "permission_to_send": "explicit", "opt_in_source": "Contact"}
                if address
                else None
            )
        elif contact["_deleted"]:
            self._revive(contact, now)
        for key in SCALARS:  # a partial update: only what was sent
            if key in body:
                contact[key] = body[key]
        if body.get("phone_number"):
            contact["phone_numbers"] = [
                *contact["phone_numbers"][:2],
                phone_resource(body["phone_number"], "home", now, "Contact"),
            ]
        if body.get("street_address"):
            contact["street_addresses"] = [
                *contact["street_addresses"][:2],
                address_resource(body["street_address"], now),
            ]
        for list_id in body.get("list_memberships") or []:
            if list_id not in contact["list_memberships"]:
                contact["list_memberships"].append(list_id)
        merged = {f["custom_field_id"]: f for f in contact["custom_fields"]}
        for item in body.get("custom_fields") or []:
            merged[item["custom_field_id"]] = {
                "custom_field_id": item["custom_field_id"],
                "value": item.get("value"),
            }
        contact["custom_fields"] = list(merged.values())
        if body.get("sms_channel"):
            contact["sms_channel"] = sms_resource(body["sms_channel"], "Contact")
        email = contact.get("email_address")
        if email:  # the form is the contact's own action: explicit permission
            email.update(
                permission_to_send="explicit",
                updated_at=iso(now),
                opt_out_date=None,
                opt_out_source=None,
                opt_out_reason=None,
            )
            contact["_optout"] = None
        contact["update_source"] = "Contact"
        contact["updated_at"], contact["_updated"] = iso(now), now
        if created:
            self.store.add_contact(contact)
        return (201 if created else 200), {
            "contact_id": contact["contact_id"],
            "action": "created" if created else "updated",
        }

    # -- shared -------------------------------------------------------------------

    def _apply_full(
        self,
        contact: dict[str, Any],
        body: Mapping[str, Any],
        now: float,
        source: str,
        creating: bool = True,
    ) -> None:
        for key in SCALARS:
            if key in body:
                contact[key] = body[key]
        email = body.get("email_address")
        if isinstance(email, dict):
            previous = contact.get("email_address") or {}
            permission = (
                email.get("permission_to_send") or previous.get("permission_to_send") or "implicit"
            )
            shaped = {
                "address": email["address"],
                "permission_to_send": permission,
                "created_at": previous.get("created_at") or iso(now),
                "updated_at": iso(now),
                "opt_in_source": previous.get("opt_in_source") or source,
                "opt_in_date": previous.get("opt_in_date") or iso(now),
                "confirm_status": previous.get("confirm_status") or "off",
            }
            if permission == "unsubscribed":
                shaped.update(
                    opt_out_source=source,
                    opt_out_date=previous.get("opt_out_date") or iso(now),
                    opt_out_reason=email.get("opt_out_reason"),
                )
                contact["_optout"] = contact.get("_optout") or now
            else:
                contact["_optout"] = None
            contact["email_address"] = shaped
        if "custom_fields" in body:
            contact["custom_fields"] = [
                {"custom_field_id": f["custom_field_id"], "value": f.get("value")}
                for f in body["custom_fields"]
            ]
        if "phone_numbers" in body:
            contact["phone_numbers"] = [
                phone_resource(p.get("phone_number"), p.get("kind"), now, source)
                for p in body["phone_numbers"]
            ]
        if "street_addresses" in body:
            contact["street_addresses"] = [
                address_resource(a, now) for a in body["street_addresses"]
            ]
        if "list_memberships" in body:
            contact["list_memberships"] = list(dict.fromkeys(body["list_memberships"]))
        if "taggings" in body:
            contact["taggings"] = list(dict.fromkeys(body["taggings"]))
        if "notes" in body:
            contact["notes"] = [
                {
                    "note_id": n.get("note_id") or str(uuid.uuid4()),
                    "created_at": n.get("created_at") or iso(now),
                    "content": n.get("content"),
                }
                for n in body["notes"]
            ]
        if body.get("sms_channel"):
            contact["sms_channel"] = sms_resource(body["sms_channel"], source)
        contact["updated_at"], contact["_updated"] = iso(now), now
        if not creating:
            contact["update_source"] = source


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
FILTER_PARAMS = (
    "status",
    "email",
    "lists",
    "segment_id",
    "tags",
    "updated_after",
    "updated_before",
    "created_after",
    "created_before",
    "optout_after",
    "optout_before",
    "include",
    "sms_status",
    "include_count",
)


def encode_cursor(query: Mapping[str, str], after_seq: int, limit: int) -> str:
    # Constant Contact's cursors are base64 of a query string (e.g. "limit=1&next=..."),
    # as the contract's GET /contact_tags description shows; ours carry the filters too.
    fields = {
        "limit": str(limit),
        "next": str(after_seq),
        **{k: v for k, v in query.items() if k in FILTER_PARAMS},
    }
    return base64.urlsafe_b64encode(urlencode(fields).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = {
            k: v[0]
            for k, v in parse_qs(
                base64.urlsafe_b64decode(padded).decode(), strict_parsing=True
            ).items()
        }
        int(fields["next"])
        return fields
    except (ValueError, KeyError, UnicodeDecodeError):
        raise ApiError.validation(["cursor is not valid"]) from None


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    moment = parse_datetime(value)
    return to_epoch(moment) if moment else None


def build_filter(store: Store, query: Mapping[str, str]) -> Callable[[dict[str, Any]], bool]:
    """One predicate for all the collection's filters; cheap checks first."""
    checks: list[Callable[[dict[str, Any]], bool]] = []
    statuses = set(_csv(query.get("status")))
    if "all" not in statuses:
        if statuses:
            checks.append(lambda c: status_of(c) in statuses)
        else:
            checks.append(lambda c: not c["_deleted"])
    if query.get("email"):
        wanted = query["email"].lower()
        checks.append(lambda c: (email_of(c) or "").lower() == wanted)
    if query.get("lists"):
        lists = set(_csv(query["lists"]))
        checks.append(lambda c: not lists.isdisjoint(c["list_memberships"]))
    if query.get("segment_id"):
        segment = store.segments.get(query["segment_id"])
        if segment is None:
            raise ApiError.of(
                404, f"Segment {query['segment_id']} not found.", "contacts.api.not.found"
            )
        list_id = segment["list_id"]
        checks.append(lambda c: list_id in c["list_memberships"])
    if query.get("tags"):
        tags = set(_csv(query["tags"]))
        checks.append(lambda c: not tags.isdisjoint(c["taggings"]))
    for name, key, after in (
        ("updated_after", "_updated", True),
        ("updated_before", "_updated", False),
        ("created_after", "_created", True),
        ("created_before", "_created", False),
        ("optout_after", "_optout", True),
        ("optout_before", "_optout", False),
    ):
        bound = _epoch(query.get(name))
        if bound is None:
            continue
        if after:
            checks.append(lambda c, k=key, b=bound: c[k] is not None and c[k] > b)
        else:
            checks.append(lambda c, k=key, b=bound: c[k] is not None and c[k] < b)
    sms = set(_csv(query.get("sms_status")))
    if sms and "all" not in sms:
        checks.append(lambda c: sms_status_of(c) in sms)
    return lambda contact: all(check(contact) for check in checks)


def query_contacts(store: Store, query: Mapping[str, str]) -> dict[str, Any]:
    """GET /contacts: one page, `_links.next` only when more remain."""
    query = dict(query)
    after = 0
    if query.get("cursor"):
        remembered = decode_cursor(query.pop("cursor"))
        after = int(remembered.pop("next"))
        query = {**remembered, **{k: v for k, v in query.items() if k == "limit"}}
    if query.get("segment_id"):
        others = set(query) - {"segment_id", "limit"}
        if others:
            raise ApiError.validation(
                [f"segment_id can only be combined with limit (got {', '.join(sorted(others))})"]
            )
    limit = int(query.get("limit") or DEFAULT_LIMIT)
    include = set(_csv(query.get("include")))
    matches = build_filter(store, query)

    page: list[dict[str, Any]] = []
    more = False
    for contact in store.contacts_after(after):
        if matches(contact):
            if len(page) == limit:
                more = True
                break
            page.append(contact)
    body: dict[str, Any] = {"contacts": [shape(c, include) for c in page]}
    if query.get("include_count") == "true":
        body["contacts_count"] = sum(1 for c in store.contacts.values() if matches(c))
    if more:
        cursor = encode_cursor(query, page[-1]["_seq"], limit)
        body["_links"] = {"next": {"href": f"/v3/contacts?cursor={cursor}"}}
    return body
