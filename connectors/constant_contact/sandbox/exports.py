"""Contact exports, as the contract describes them: an asynchronous activity, then a CSV file.

POST /activities/contact_exports (ContactsExport: contact_ids, list_ids, tag_ids,
segment_id, status, new_subscriber, exclude, fields) answers 201 with the activity; once it
completes, its `_links.results.href` is /v3/contact_exports/{file_export_id}, and GET there
answers the CSV (text/csv): a header of the exported field names, one contact per row, in
creation order. The rows are chosen when the activity completes (a snapshot, as the real
export file is); the file is built when it is fetched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from .activities import RUNNERS, Activity, BulkActivities
from .contact_query import status_of
from .errors import ApiError

# The columns a default export has (the contract: "By default, all fields are returned").
EXPORT_FIELDS = (
    "contact_id",
    "email_address",
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "birthday_month",
    "birthday_day",
    "anniversary",
    "email_permission_status",
    "email_optin_source",
    "email_optin_date",
    "email_optout_source",
    "email_optout_date",
    "email_optout_reason",
    "created_at",
    "updated_at",
)
NEEDS_EMAIL = frozenset(f for f in EXPORT_FIELDS if f.startswith("email_optin") or "optout" in f)
STATUSES = ("active", "unsubscribed", "pending_confirmation", "temp_hold", "not_set", "deleted")
# Which filters each one may be combined with ("mutually exclusive with all other filtering
# criteria except ..."); fields is not a filter.
COMBINABLE = {
    "contact_ids": {"status"},
    "list_ids": {"status", "exclude", "new_subscriber"},
    "tag_ids": set(),
    "segment_id": set(),
    "new_subscriber": {"list_ids", "exclude"},
    "status": {"contact_ids", "list_ids"},
    "exclude": {"list_ids", "new_subscriber"},
}


def _problems(body: Mapping[str, Any]) -> list[str]:
    given = [k for k in COMBINABLE if body.get(k) not in (None, [], {}, False)]
    problems = []
    for name in given:
        clashing = [o for o in given if o != name and o not in COMBINABLE[name]]
        if clashing:
            problems.append(f"{name} cannot be combined with {', '.join(clashing)}")
    if body.get("status") is not None and body["status"] not in STATUSES:
        problems.append(f"status must be one of {', '.join(STATUSES)}")
    fields = body.get("fields") or []
    unknown = [f for f in fields if f not in EXPORT_FIELDS]
    if unknown:
        problems.append(f"unknown export field(s): {', '.join(unknown)}")
    if NEEDS_EMAIL.intersection(fields) and "email_address" not in fields:
        problems.append("exporting opt-in or opt-out details needs email_address too")
    return problems


def create_export(bulk: BulkActivities, body: Mapping[str, Any]) -> dict[str, Any]:
    problems = _problems(body)
    if problems:
        raise ApiError.validation(problems)
    activity = bulk._new("contact_export", {"body": dict(body)})
    activity.status = {"items_total_count": 0, "items_completed_count": 0}
    return activity.as_json()


def _chosen(bulk: BulkActivities, body: Mapping[str, Any]) -> list[str]:
    store = bulk.store
    status = body.get("status")
    excluded = set((body.get("exclude") or {}).get("contact_ids") or [])
    if body.get("contact_ids"):
        wanted = set(body["contact_ids"])
        picked = [c for c in store.contacts.values() if c["contact_id"] in wanted]
    elif body.get("list_ids"):
        lists = set(body["list_ids"])
        picked = [c for c in store.live_contacts() if not lists.isdisjoint(c["list_memberships"])]
    elif body.get("tag_ids"):
        tags = set(body["tag_ids"])
        picked = [c for c in store.live_contacts() if not tags.isdisjoint(c["taggings"])]
    elif body.get("segment_id") is not None:
        segment = store.segments.get(str(body["segment_id"]))
        if segment is None:
            return []
        picked = [c for c in store.live_contacts() if segment["list_id"] in c["list_memberships"]]
    elif status == "deleted":
        picked = [c for c in store.contacts.values() if c["_deleted"]]
    else:
        picked = list(store.live_contacts())
    if status:
        picked = [c for c in picked if status_of(c) == status]
    picked.sort(key=lambda c: c["_seq"])
    return [c["contact_id"] for c in picked if c["contact_id"] not in excluded]


def _run_export(bulk: BulkActivities, activity: Activity, now: float) -> None:
    body = activity.payload["body"]
    ids = _chosen(bulk, body)
    bulk.store.exports[activity.activity_id] = {
        "contact_ids": ids,
        "fields": list(body.get("fields") or EXPORT_FIELDS),
    }
    activity.results_href = f"/v3/contact_exports/{activity.activity_id}"
    activity.status.update(items_total_count=len(ids), items_completed_count=len(ids))


def _row(contact: Mapping[str, Any], fields: list[str]) -> list[Any]:
    email = contact.get("email_address") or {}
    values = {
        **{k: contact.get(k) for k in EXPORT_FIELDS},
        "email_address": email.get("address"),
        "email_permission_status": email.get("permission_to_send"),
        "email_optin_source": email.get("opt_in_source"),
        "email_optin_date": email.get("opt_in_date"),
        "email_optout_source": email.get("opt_out_source"),
        "email_optout_date": email.get("opt_out_date"),
        "email_optout_reason": email.get("opt_out_reason"),
    }
    return ["" if values.get(f) is None else values[f] for f in fields]


def export_file(bulk: BulkActivities, file_export_id: str) -> bytes:
    export = bulk.store.exports.get(file_export_id)
    if export is None:
        raise ApiError.of(404, f"Export file {file_export_id} not found.", "not_found")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(export["fields"])
    contacts = bulk.store.contacts
    for contact_id in export["contact_ids"]:
        contact = contacts.get(contact_id)
        if contact is not None:
            writer.writerow(_row(contact, export["fields"]))
    return out.getvalue().encode()


RUNNERS["contact_export"] = _run_export
