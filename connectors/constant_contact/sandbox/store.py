"""The account's data, in memory: contacts, lists, custom fields, tags, segments, activities.

Contacts are kept in creation order (an append-only list of ids with increasing
sequence numbers), so a cursor is "the sequence number of the last contact returned":
pages stay stable while contacts are added (they land at the end) or deleted (deletion
is soft, as in Constant Contact, so no position moves). A page costs O(page), not O(store),
when the filter matches often.

Not thread-safe on its own: the sandbox holds its one lock around every use.
"""

from __future__ import annotations

import bisect
import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Stable ids for seeded objects, so repeated runs (and other processes) see the same ids.
SANDBOX_NAMESPACE = uuid.UUID("6f0a3c52-7c1e-4d7e-9d55-0c0ac0de5a3d")


@functools.lru_cache(maxsize=1024)  # seeding asks for the same list/tag/field ids per contact
def stable_id(kind: str, key: object) -> str:
    return str(uuid.uuid5(SANDBOX_NAMESPACE, f"{kind}:{key}"))


@dataclass
class Store:
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # contact ids by creation
    seqs: list[int] = field(default_factory=list)  # their sequence numbers, ascending
    by_email: dict[str, str] = field(default_factory=dict)  # lower-case address -> id
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    # segment_id -> {"name": ..., "list_id": ...}: members of one list, enough to page by.
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: dict[str, Any] = field(default_factory=dict)
    # file_export_id -> {"contact_ids": [...], "fields": [...]}: finished contact exports.
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_seq: int = 1
    seeded: int = 0  # how many seed contacts exist, so seeding again continues the numbering

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    # ------------------------------------------------------------------ contacts

    def add_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        contact["_seq"] = self.next_seq
        self.next_seq += 1
        self.contacts[contact["contact_id"]] = contact
        self.order.append(contact["contact_id"])
        self.seqs.append(contact["_seq"])
        address = email_of(contact)
        if address:
            self.by_email[address.lower()] = contact["contact_id"]
        return contact

    def reindex_email(self, contact: dict[str, Any], old_address: str | None) -> None:
        if old_address and self.by_email.get(old_address.lower()) == contact["contact_id"]:
            del self.by_email[old_address.lower()]
        address = email_of(contact)
        if address:
            self.by_email[address.lower()] = contact["contact_id"]

    def contact_by_email(self, address: str) -> dict[str, Any] | None:
        contact_id = self.by_email.get(address.lower())
        return self.contacts.get(contact_id) if contact_id else None

    def contacts_after(self, seq: int) -> Iterator[dict[str, Any]]:
        """Contacts created after sequence number `seq`, in creation order."""
        start = bisect.bisect_right(self.seqs, seq)
        contacts = self.contacts
        for contact_id in self.order[start:]:
            yield contacts[contact_id]

    def live_contacts(self) -> Iterator[dict[str, Any]]:
        return (c for c in self.contacts.values() if not c["_deleted"])

    # ------------------------------------------------------------------ lookups

    def list_by_name(self, name: str) -> dict[str, Any] | None:
        return next(
            (x for x in self.lists.values() if x["name"] == name and not x.get("_deleted")), None
        )

    def custom_field_by_name(self, name: str) -> dict[str, Any] | None:
        return next((f for f in self.custom_fields.values() if f["name"] == name), None)

    def tag_by_name(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.tags.values() if t["name"].lower() == name.lower()), None)


def email_of(contact: dict[str, Any]) -> str | None:
    email = contact.get("email_address")
    return email.get("address") if isinstance(email, dict) else None
