"""GET /contacts: filters, include, counts and cursor paging over the store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.constant_contact.contract import parse_datetime

from .clock import to_epoch
from .contact_model import ACTIVE_PERMISSIONS, shape
from .cursors import decode_cursor, encode_cursor
from .errors import ApiError
from .store import Store, email_of

DEFAULT_LIMIT = 50
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


def split_csv(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    moment = parse_datetime(value)
    return to_epoch(moment) if moment else None


def build_filter(store: Store, query: Mapping[str, str]) -> Callable[[dict[str, Any]], bool]:
    """One predicate for all the collection's filters; cheap checks first."""
    checks: list[Callable[[dict[str, Any]], bool]] = []
    statuses = set(split_csv(query.get("status")))
    if "all" not in statuses:
        if statuses:
            checks.append(lambda c: status_of(c) in statuses)
        else:
            checks.append(lambda c: not c["_deleted"])
    if query.get("email"):
        wanted = query["email"].lower()
        checks.append(lambda c: (email_of(c) or "").lower() == wanted)
    if query.get("lists"):
        lists = set(split_csv(query["lists"]))
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
        tags = set(split_csv(query["tags"]))
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
    sms = set(split_csv(query.get("sms_status")))
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
    include = set(split_csv(query.get("include")))
    matches = build_filter(store, query)

    page: list[dict[str, Any]] = []
    more = False
    candidates = store.contacts_after(after)
    if query.get("email"):  # at most one contact has the address: use the index, not a scan
        found = store.contact_by_email(query["email"])
        candidates = iter([found] if found is not None and found["_seq"] > after else [])
    for contact in candidates:
        if matches(contact):
            if len(page) == limit:
                more = True
                break
            page.append(contact)
    body: dict[str, Any] = {"contacts": [shape(c, include) for c in page]}
    if query.get("include_count") == "true":
        body["contacts_count"] = sum(1 for c in store.contacts.values() if matches(c))
    if more:
        cursor = encode_cursor(query, page[-1]["_seq"], limit, FILTER_PARAMS)
        body["_links"] = {"next": {"href": f"/v3/contacts?cursor={cursor}"}}
    return body
