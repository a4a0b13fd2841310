"""Contact lists, custom fields and tags: what a connector lists and validates against."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from .clock import Clock, iso
from .cursors import decode_cursor, encode_cursor
from .errors import ApiError
from .store import Store, stable_id

CUSTOM_FIELD_TYPES = (
    "string",
    "date",
    "number",
    "currency",
    "boolean",
    "single_select",
    "multi_select",
)


def _page(
    items: list[dict[str, Any]],
    query: Mapping[str, str],
    default_limit: int,
    path: str,
    keep: tuple[str, ...] = (),
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, str]]:
    """Cursor paging over a small ordered collection (position = index in creation order).

    A `cursor` stands alone (Constant Contact's rule): it remembers the limit and the
    `keep` filters of the first request, which come back as the third value.
    """
    after = -1
    query = dict(query)
    if query.get("cursor"):
        remembered = decode_cursor(query.pop("cursor"))
        after = int(remembered.pop("next"))
        query = remembered
    limit = int(query.get("limit") or default_limit)
    chosen = [i for i in items if i["_seq"] > after]
    page, rest = chosen[:limit], chosen[limit:]
    links = None
    if rest:
        cursor = encode_cursor(query, page[-1]["_seq"], limit, keep)
        links = {"next": {"href": f"/v3/{path}?cursor={cursor}"}}
    return page, links, query


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_") and v is not None}


class Catalog:
    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.store = store
        self._seq = 0

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ------------------------------------------------------------------ lists

    def add_list(
        self,
        name: str,
        favorite: bool = False,
        list_id: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        now = self.clock.time()
        item = {
            "list_id": list_id or str(uuid.uuid4()),
            "name": name,
            "favorite": favorite,
            "description": description,
            "created_at": iso(now),
            "updated_at": iso(now),
            "_seq": self._next_seq(),
        }
        self.store.lists[item["list_id"]] = item
        return item

    def create_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = (body.get("name") or "").strip()
        if not name:
            raise ApiError.validation(["name is required"])
        if self.store.list_by_name(name):
            raise ApiError.of(
                409, f"A list named {name!r} already exists.", "contacts.api.conflict"
            )
        return _public(
            self.add_list(
                name, bool(body.get("favorite", False)), description=body.get("description")
            )
        )

    def get_lists(self, query: Mapping[str, str]) -> dict[str, Any]:
        if query.get("cursor"):
            query = {**decode_cursor(query["cursor"]), "cursor": query["cursor"]}
        wanted_status = query.get("status", "active")
        items = [
            x
            for x in self.store.lists.values()
            if wanted_status == "all" or (wanted_status == "deleted") == bool(x.get("_deleted"))
        ]
        if query.get("name"):
            items = [x for x in items if x["name"] == query["name"]]
        page, links, query = _page(items, query, 50, "contact_lists", LIST_FILTERS)
        counting = query.get("include_membership_count")
        counts = self._membership_counts(counting) if counting else {}
        lists = []
        for item in page:
            shaped = _public(item)
            if counting:
                shaped["membership_count"] = counts.get(item["list_id"], 0)
            lists.append(shaped)
        body: dict[str, Any] = {"lists": lists}
        if query.get("include_count") == "true":
            body["lists_count"] = len(items)
        if links:
            body["_links"] = links
        return body

    def _live_list(self, list_id: str) -> dict[str, Any]:
        item = self.store.lists.get(list_id)
        if item is None or item.get("_deleted"):
            raise ApiError.of(404, f"List {list_id} not found.", "contacts.api.not.found")
        return item

    def update_list(self, list_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT /contact_lists/{list_id}: every property replaced (favorite defaults to false)."""
        item = self._live_list(list_id)
        name = (body.get("name") or "").strip()
        if not name:
            raise ApiError.validation(["name is required"])
        other = self.store.list_by_name(name)
        if other is not None and other["list_id"] != list_id:
            raise ApiError.of(
                409, f"A list named {name!r} already exists.", "contacts.api.conflict"
            )
        item.update(
            name=name,
            favorite=bool(body.get("favorite", False)),
            description=body.get("description"),
            updated_at=iso(self.clock.time()),
        )
        return _public(item)

    def get_list(self, list_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        item = self.store.lists.get(list_id)
        if item is None or item.get("_deleted"):
            raise ApiError.of(404, f"List {list_id} not found.", "contacts.api.not.found")
        shaped = _public(item)
        if query.get("include_membership_count"):
            shaped["membership_count"] = self._membership_counts(
                query["include_membership_count"]
            ).get(list_id, 0)
        return shaped

    def _membership_counts(self, which: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for contact in self.store.live_contacts():
            if which == "active":
                email = contact.get("email_address") or {}
                if email.get("permission_to_send") not in ("implicit", "explicit"):
                    continue
            for list_id in contact["list_memberships"]:
                counts[list_id] = counts.get(list_id, 0) + 1
        return counts

    # ------------------------------------------------------------------ custom fields

    def add_custom_field(
        self, label: str, kind: str = "string", field_id: str | None = None
    ) -> dict[str, Any]:
        now = self.clock.time()
        # "constructed from the label by replacing blanks with underscores" - case kept.
        name = re.sub(r"\s+", "_", label.strip())[:50] or "field"
        item = {
            "custom_field_id": field_id or str(uuid.uuid4()),
            "label": label,
            "name": name,
            "type": kind,
            "created_at": iso(now),
            "updated_at": iso(now),
            "_seq": self._next_seq(),
        }
        self.store.custom_fields[item["custom_field_id"]] = item
        return item

    def create_custom_field(self, body: Mapping[str, Any]) -> dict[str, Any]:
        label = (body.get("label") or "").strip()
        kind = body.get("type") or ""
        problems = []
        if not label:
            problems.append("label is required")
        if kind not in CUSTOM_FIELD_TYPES:
            problems.append(f"type must be one of {', '.join(CUSTOM_FIELD_TYPES)}")
        if problems:
            raise ApiError.validation(problems)
        if any(f["label"].lower() == label.lower() for f in self.store.custom_fields.values()):
            raise ApiError.of(
                409, f"A custom field labelled {label!r} already exists.", "contacts.api.conflict"
            )
        if len(self.store.custom_fields) >= 100:
            raise ApiError.validation(["an account can have at most 100 custom fields"])
        return _public(self.add_custom_field(label, kind))

    def get_custom_fields(self, query: Mapping[str, str]) -> dict[str, Any]:
        page, links, _ = _page(
            list(self.store.custom_fields.values()), query, 50, "contact_custom_fields"
        )
        body: dict[str, Any] = {"custom_fields": [_public(f) for f in page]}
        if links:
            body["_links"] = links
        return body

    # ------------------------------------------------------------------ tags

    def add_tag(
        self, name: str, tag_id: str | None = None, source: str = "Contact"
    ) -> dict[str, Any]:
        now = self.clock.time()
        item = {
            "tag_id": tag_id or str(uuid.uuid4()),
            "name": name,
            "tag_source": source,
            "created_at": iso(now),
            "updated_at": iso(now),
            "_seq": self._next_seq(),
        }
        self.store.tags[item["tag_id"]] = item
        return item

    def create_tag(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = (body.get("name") or "").strip()
        if not name:
            raise ApiError.validation(["name is required"])
        if self.store.tag_by_name(name):
            raise ApiError.of(409, f"A tag named {name!r} already exists.", "contacts.api.conflict")
        return _public(self.add_tag(name, source=body.get("tag_source") or "Contact"))

    def update_custom_field(self, field_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        item = self.store.custom_fields.get(field_id)
        if item is None:
            raise ApiError.of(404, f"Custom field {field_id} not found.", "contacts.api.not.found")
        label = (body.get("label") or item["label"]).strip()
        clash = any(
            f["label"].lower() == label.lower() and f is not item
            for f in self.store.custom_fields.values()
        )
        if clash:
            raise ApiError.of(
                409, f"A custom field labelled {label!r} already exists.", "contacts.api.conflict"
            )
        item.update(label=label, updated_at=iso(self.clock.time()))
        return _public(item)

    def rename_tag(self, tag_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        tag = self.store.tags.get(tag_id)
        if tag is None:
            raise ApiError.of(404, f"Tag {tag_id} not found.", "contacts.api.not.found")
        name = (body.get("name") or "").strip()
        other = self.store.tag_by_name(name)
        if other is not None and other["tag_id"] != tag_id:
            raise ApiError.of(409, f"A tag named {name!r} already exists.", "contacts.api.conflict")
        tag.update(name=name, updated_at=iso(self.clock.time()))
        return _public(tag)

    def get_segments(self, query: Mapping[str, str]) -> dict[str, Any]:
        """GET /segments: the seeded segments (members of one list each)."""
        segments = [
            {
                "segment_id": int(segment_id),
                "name": segment["name"],
                "created_at": segment.get("created_at") or iso(0),
                "edited_at": segment.get("created_at") or iso(0),
            }
            for segment_id, segment in self.store.segments.items()
        ]
        if query.get("sort_by") == "name":
            segments.sort(key=lambda s: s["name"])
        else:  # by date, most recently edited first
            segments.sort(key=lambda s: (s["edited_at"], s["segment_id"]), reverse=True)
        limit = query.get("limit") or "1000"
        if not limit.isdigit() or int(limit) < 1:
            raise ApiError.validation([f"limit: {limit!r} is not a positive integer"])
        return {"segments": segments[: int(limit)]}

    def get_tags(self, query: Mapping[str, str]) -> dict[str, Any]:
        if query.get("cursor"):
            query = {**decode_cursor(query["cursor"]), "cursor": query["cursor"]}
        page, links, query = _page(
            list(self.store.tags.values()), query, 50, "contact_tags", ("include_count",)
        )
        counts: dict[str, int] = {}
        if query.get("include_count") == "true":
            for contact in self.store.live_contacts():
                for tag_id in contact["taggings"]:
                    counts[tag_id] = counts.get(tag_id, 0) + 1
        tags = []
        for tag in page:
            shaped = _public(tag)
            if query.get("include_count") == "true":
                shaped["contacts_count"] = counts.get(tag["tag_id"], 0)
            tags.append(shaped)
        body: dict[str, Any] = {"tags": tags}
        if links:
            body["_links"] = links
        return body

    # ------------------------------------------------------------------ the account's shape

    def seed_structure(self) -> None:
        """Lists, custom fields, tags and segments every fresh sandbox account has."""
        for name in SEED_LISTS:
            self.add_list(name, list_id=stable_id("list", name), favorite=name == "Newsletter")
        for label, kind in SEED_CUSTOM_FIELDS:
            self.add_custom_field(label, kind, field_id=stable_id("custom_field", label))
        for name in SEED_TAGS:
            self.add_tag(name, tag_id=stable_id("tag", name))
        for number, list_name in enumerate(SEED_LISTS[:2], start=1):
            self.store.segments[str(number)] = {
                "name": f"Members of {list_name}",
                "list_id": stable_id("list", list_name),
            }


LIST_FILTERS = ("status", "name", "include_membership_count", "include_count")
SEED_LISTS = ("Newsletter", "Customers", "Prospects", "Events")
SEED_CUSTOM_FIELDS = (("Favorite Color", "string"), ("Member Since", "date"))
SEED_TAGS = ("VIP", "Lead", "Imported")
