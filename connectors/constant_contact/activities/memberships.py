"""List memberships and tags of existing contacts, in bulk.

* Add contacts to lists / Remove contacts from lists: POST
  /activities/add_list_memberships and /activities/remove_list_memberships with
  ``{"source": {"contact_ids": [...]}, "list_ids": [...]}`` - up to 500 contact ids per
  request and up to 50 lists.
* Add tags / Remove tags: POST /activities/contacts_taggings_add and
  /activities/contacts_taggings_remove with ``{"source": {"contact_ids": [...]}, "tag_ids":
  [...]}`` - up to 500 contact ids and 50 tags.

Each request is an asynchronous activity, polled until it ends; each record (a contact id)
gets its own outcome: a contact Constant Contact names in the activity's errors fails, the
others are done. The engine's batch is one request (500 records), so 40,000 contacts take 80
requests plus the polls. The activity id is kept in the run journal before polling, so a
resumed attempt polls it rather than starting it again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from connectors.base import ActivityType, Field, FieldKind, RecordResult, Role, RunContext
from connectors.constant_contact.activities.catalog_targets import bulk_by_id, uuid_failure
from connectors.constant_contact.activities.common import (
    check_config,
    poll_timeout,
    poll_timeout_field,
)
from connectors.constant_contact.api import ContactsApi
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.schemas import contact_id_schema, record_result_schema

MAX_CONTACT_IDS = 500
MAX_TARGETS = 50


# A project variable not yet replaced (at design time): "[name]".
VARIABLE = re.compile(r"\[[A-Za-z_][A-Za-z0-9_.]*\]")


def id_list(value: Any) -> list[str]:
    """Ids from a configuration value: a list, or text separated by commas or blanks (also
    within a list's items, as a variable holding several ids gives)."""
    items = value if isinstance(value, list | tuple) else [value]
    split = (part for item in items for part in re.split(r"[\s,;]+", str(item or "")))
    return list(dict.fromkeys(part for part in split if part))


class MembershipChange(ActivityType):
    """Contacts (by id) join or leave the configured lists, or gain or lose tags."""

    role = Role.TARGET
    preferred_batch_size = MAX_CONTACT_IDS
    endpoint: ClassVar[str]
    targets_key: ClassVar[str]  # "list_ids" / "tag_ids", in the configuration and the body
    target_word: ClassVar[str]  # "list" / "tag"
    action: ClassVar[str]  # "added" / "removed"

    def batch_size(self, config: Mapping[str, Any]) -> int:
        return MAX_CONTACT_IDS

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        ids = id_list(config.get(self.targets_key))
        field = self.targets_key
        if not ids:
            return {field: f"Choose at least one {self.target_word}."}
        if len(ids) > MAX_TARGETS:
            return {field: f"At most {MAX_TARGETS} {self.target_word}s per request."}
        # Typed ids are checked here; a [variable] is checked once replaced, at run time.
        bad = [i for i in ids if uuid_failure(i, i, "id") is not None and not VARIABLE.search(i)]
        if bad:
            return {field: f"Not {self.target_word} ids (UUIDs): {', '.join(bad[:5])}."}
        return {}

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        return contact_id_schema("Unique ID of the contact (from Query, for instance).")

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        return record_result_schema()

    def record_key(self, record: Mapping[str, Any]) -> str:
        return str(record.get("contact_id") or "").strip()

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        check_config(self, config)
        targets = id_list(config.get(self.targets_key))
        with ConstantContactClient.for_run(context) as client:

            def start(contact_ids: list[str]) -> dict[str, Any]:
                body = {"source": {"contact_ids": contact_ids}, self.targets_key: targets}
                return client.send_json("POST", self.endpoint, body)

            def summary(final: dict[str, Any]) -> str:
                status = final.get("status") or {}
                return (
                    f"{self.name}: {status.get('items_completed_count', '?')} of "
                    f"{status.get('items_total_count', '?')} contacts, "
                    f"{len(targets)} {self.target_word}(s)."
                )

            return bulk_by_id(
                context,
                ContactsApi(client),
                batch,
                key_of=self.record_key,
                what="contact_id",
                per_request=MAX_CONTACT_IDS,
                start=start,
                timeout=poll_timeout(config),
                label=self.name,
                action=self.action,
                summary=summary,
            )


def _targets_field(name: str, word: str) -> Field:
    return Field(
        name,
        f"{word.capitalize()}s",
        FieldKind.LIST,
        required=True,
        help=f"Up to {MAX_TARGETS} {word} ids (comma separated).",
        picker=f"{word}s",
    )


class ListMembershipChange(MembershipChange):
    """Contacts join or leave lists."""

    targets_key, target_word = "list_ids", "list"
    config_fields = (_targets_field("list_ids", "list"), poll_timeout_field("Time limit (s)"))


class TagChange(MembershipChange):
    """Contacts gain or lose tags."""

    targets_key, target_word = "tag_ids", "tag"
    config_fields = (_targets_field("tag_ids", "tag"), poll_timeout_field("Time limit (s)"))


class AddToLists(ListMembershipChange):
    key = "lists_add_contacts"
    name = "Add contacts to lists"
    description = "Adds contacts (by id) to lists: POST /activities/add_list_memberships."
    endpoint, action = "/activities/add_list_memberships", "added"


class RemoveFromLists(ListMembershipChange):
    key = "lists_remove_contacts"
    name = "Remove contacts from lists"
    description = "Removes contacts (by id) from lists: POST /activities/remove_list_memberships."
    endpoint, action = "/activities/remove_list_memberships", "removed"


class AddTags(TagChange):
    key = "tags_add_contacts"
    name = "Add tags to contacts"
    description = "Tags contacts (by id): POST /activities/contacts_taggings_add."
    endpoint, action = "/activities/contacts_taggings_add", "added"


class RemoveTags(TagChange):
    key = "tags_remove_contacts"
    name = "Remove tags from contacts"
    description = "Untags contacts (by id): POST /activities/contacts_taggings_remove."
    endpoint, action = "/activities/contacts_taggings_remove", "removed"
