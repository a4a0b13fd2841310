"""Asynchronous activities on lists, tags and custom fields, as the contract describes them.

* POST /activities/add_list_memberships, /activities/remove_list_memberships (201): contacts
  chosen by one `source` (contact_ids up to 500, list_ids, tag_ids, all_active_contacts,
  segment_id) join or leave up to 50 target lists.
* POST /activities/contacts_taggings_add, /contacts_taggings_remove (201): the same for tags.
* DELETE /contact_lists/{list_id} (202), POST /activities/list_delete (201, up to 100 lists).
* DELETE /contact_tags/{tag_id} (202), POST /activities/contacts_tags_delete (201, up to 500).
* POST /activities/custom_fields_delete (201, up to 100 custom fields).

Each is created `initialized` and takes effect when it completes (see `activities`), so
a client that does not poll sees nothing yet. Unknown contacts fail alone, named in
`activity_errors`; unknown target lists or tags refuse the request (400).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .activities import RUNNERS, Activity, BulkActivities
from .clock import iso
from .errors import ApiError

MEMBERSHIP_KINDS = {"add": "list_membership_add", "remove": "list_membership_remove"}
TAGGING_KINDS = {"add": "tagging_add", "remove": "tagging_remove"}


def _require_existing(kind: str, ids: Iterable[str], found: Mapping[str, Any]) -> None:
    missing = [i for i in ids if i not in found or found[i].get("_deleted")]
    if missing:
        raise ApiError.validation([f"{kind} {i} does not exist" for i in missing])


def _chosen(bulk: BulkActivities, source: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(contact ids found, error messages) for a membership or tagging `source`."""
    store = bulk.store
    if "contact_ids" in source:
        found, errors = [], []
        for contact_id in source["contact_ids"]:
            contact = store.contacts.get(contact_id)
            if contact is None or contact["_deleted"]:
                errors.append(f"Contact {contact_id} not found")
            else:
                found.append(contact_id)
        return list(dict.fromkeys(found)), errors
    live = list(store.live_contacts())
    if source.get("list_ids"):
        wanted = set(source["list_ids"])
        members = [c for c in live if not wanted.isdisjoint(c["list_memberships"])]
    elif source.get("tag_ids"):
        wanted = set(source["tag_ids"])
        members = [c for c in live if not wanted.isdisjoint(c["taggings"])]
    elif source.get("segment_id") is not None:
        segment = store.segments.get(str(source["segment_id"]))
        list_id = segment["list_id"] if segment else None
        members = [c for c in live if list_id in c["list_memberships"]]
    else:  # all_active_contacts / new_subscriber / engagement_level: every active contact
        members = [
            c
            for c in live
            if (c.get("email_address") or {}).get("permission_to_send") in ("implicit", "explicit")
        ]
    return [c["contact_id"] for c in members], []


def _excluded(body: Mapping[str, Any]) -> set[str]:
    return set((body.get("exclude") or {}).get("contact_ids") or [])


# ---------------------------------------------------------------------- creation


def create_membership(bulk: BulkActivities, body: Mapping[str, Any], action: str) -> dict:
    list_ids = list(body["list_ids"])
    _require_existing("list", list_ids, bulk.store.lists)
    activity = bulk._new(MEMBERSHIP_KINDS[action], {"body": dict(body)})
    activity.status = {"items_total_count": 0, "items_completed_count": 0, "list_count": 0}
    return activity.as_json()


def create_tagging(bulk: BulkActivities, body: Mapping[str, Any], action: str) -> dict:
    tag_ids = list(body["tag_ids"])
    if not tag_ids:
        raise ApiError.validation(["tag_ids must name at least one tag"])
    _require_existing("tag", tag_ids, bulk.store.tags)
    activity = bulk._new(TAGGING_KINDS[action], {"body": dict(body)})
    activity.status = {"items_total_count": 0, "items_completed_count": 0}
    return activity.as_json()


def create_list_delete(bulk: BulkActivities, list_ids: list[str]) -> dict:
    if not list_ids:
        raise ApiError.validation(["list_ids must name at least one list"])
    activity = bulk._new("list_delete", {"list_ids": list_ids})
    activity.status = {"list_count": 0}
    return activity.as_json()


def create_tags_delete(bulk: BulkActivities, tag_ids: list[str]) -> dict:
    if not tag_ids:
        raise ApiError.validation(["tag_ids must name at least one tag"])
    activity = bulk._new("tags_delete", {"tag_ids": tag_ids})
    activity.error_objects = True
    activity.status = {"items_total_count": len(tag_ids), "items_completed_count": 0}
    return activity.as_json()


def create_custom_fields_delete(bulk: BulkActivities, field_ids: list[str]) -> dict:
    if not field_ids:
        raise ApiError.validation(["custom_field_ids must name at least one custom field"])
    activity = bulk._new("custom_fields_delete", {"custom_field_ids": field_ids})
    return activity.as_json()


# ---------------------------------------------------------------------- effects


def _run_membership(bulk: BulkActivities, activity: Activity, now: float) -> None:
    body = activity.payload["body"]
    targets = [i for i in body["list_ids"] if i in bulk.store.lists]
    chosen, errors = _chosen(bulk, body["source"])
    chosen = [c for c in chosen if c not in _excluded(body)]
    adding = activity.kind == MEMBERSHIP_KINDS["add"]
    for contact_id in chosen:
        contact = bulk.store.contacts[contact_id]
        memberships = contact["list_memberships"]
        if adding:
            memberships.extend(t for t in targets if t not in memberships)
        else:
            contact["list_memberships"] = [m for m in memberships if m not in targets]
        contact["updated_at"], contact["_updated"] = iso(now), now
    activity.errors.extend(errors)
    activity.status.update(
        items_total_count=len(chosen) + len(errors),
        items_completed_count=len(chosen),
        list_count=len(targets),
    )


def _run_tagging(bulk: BulkActivities, activity: Activity, now: float) -> None:
    body = activity.payload["body"]
    tags = [t for t in body["tag_ids"] if t in bulk.store.tags]
    chosen, errors = _chosen(bulk, body["source"])
    chosen = [c for c in chosen if c not in _excluded(body)]
    adding = activity.kind == TAGGING_KINDS["add"]
    for contact_id in chosen:
        contact = bulk.store.contacts[contact_id]
        if adding:
            contact["taggings"].extend(t for t in tags if t not in contact["taggings"])
        else:
            contact["taggings"] = [t for t in contact["taggings"] if t not in tags]
        contact["updated_at"], contact["_updated"] = iso(now), now
    activity.errors.extend(errors)
    activity.status.update(
        items_total_count=len(chosen) + len(errors), items_completed_count=len(chosen)
    )


def _run_list_delete(bulk: BulkActivities, activity: Activity, now: float) -> None:
    deleted = []
    for list_id in activity.payload["list_ids"]:
        item = bulk.store.lists.get(list_id)
        if item is None or item.get("_deleted"):
            activity.errors.append(f"List {list_id} not found")
            continue
        item["_deleted"] = True
        item["deleted_at"] = item["updated_at"] = iso(now)
        deleted.append(list_id)
    gone = set(deleted)
    for contact in bulk.store.contacts.values():
        if not gone.isdisjoint(contact["list_memberships"]):
            contact["list_memberships"] = [m for m in contact["list_memberships"] if m not in gone]
    activity.status["list_count"] = len(deleted)


def _run_tags_delete(bulk: BulkActivities, activity: Activity, now: float) -> None:
    gone = set()
    for tag_id in activity.payload["tag_ids"]:
        if bulk.store.tags.pop(tag_id, None) is None:
            activity.errors.append(f"Tag {tag_id} not found")
        else:
            gone.add(tag_id)
    for contact in bulk.store.contacts.values():
        if not gone.isdisjoint(contact["taggings"]):
            contact["taggings"] = [t for t in contact["taggings"] if t not in gone]
    activity.status["items_completed_count"] = len(gone)


def remove_custom_field(bulk_store: Any, field_id: str) -> bool:
    """Delete one custom field and every contact's value of it; False if unknown."""
    if bulk_store.custom_fields.pop(field_id, None) is None:
        return False
    for contact in bulk_store.contacts.values():
        if any(f["custom_field_id"] == field_id for f in contact["custom_fields"]):
            contact["custom_fields"] = [
                f for f in contact["custom_fields"] if f["custom_field_id"] != field_id
            ]
    return True


def _run_custom_fields_delete(bulk: BulkActivities, activity: Activity, now: float) -> None:
    for field_id in activity.payload["custom_field_ids"]:
        if not remove_custom_field(bulk.store, field_id):
            activity.errors.append(f"Custom field {field_id} not found")


RUNNERS.update(
    {
        MEMBERSHIP_KINDS["add"]: _run_membership,
        MEMBERSHIP_KINDS["remove"]: _run_membership,
        TAGGING_KINDS["add"]: _run_tagging,
        TAGGING_KINDS["remove"]: _run_tagging,
        "list_delete": _run_list_delete,
        "tags_delete": _run_tags_delete,
        "custom_fields_delete": _run_custom_fields_delete,
    }
)
