"""Targets over the account's catalog: create, update and delete lists, tags, custom fields.

Creates and updates are one request per record; deletes go in bulk through Constant
Contact's asynchronous activities (list_delete: 100 lists, contacts_tags_delete: 500 tags,
custom_fields_delete: 100 fields per request), polled, with one outcome per record. All
follow the failure policy of `common` (a bad record fails alone; a lost authorisation
fails the batch).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

from connectors.base import ActivityType, RecordResult, Role, RunContext
from connectors.constant_contact.activities.bulk import RowRef, chunk_ids
from connectors.constant_contact.activities.common import (
    activity_journal_key,
    bulk_chunk,
    poll_timeout,
    poll_timeout_field,
    report,
    write_each,
)
from connectors.constant_contact.api import ContactsApi
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.schemas import (
    SCHEMA_DIALECT,
    contract_schema,
    record_result_schema,
)


def uuid_failure(value: Any, key: str, what: str) -> RecordResult | None:
    """An id that is not a canonical UUID fails alone, never sent (the contract allows only
    UUIDs, and one bad id would get a whole bulk request refused)."""
    text = str(value or "").strip()
    try:
        ok = str(uuid.UUID(text)) == text.lower()
    except ValueError:
        ok = False
    if ok:
        return None
    return RecordResult.failed(
        key=key, error_key="validation", error_message=f"The {what} {text!r} is not a UUID."
    )


def _id_property(title: str, thing: str) -> dict[str, Any]:
    return {
        "type": "string",
        "format": "uuid",
        "title": title,
        "description": f"Unique ID of the {thing}.",
    }


def _id_schema(id_field: str, title: str, thing: str) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_DIALECT,
        "title": f"{thing.capitalize()} to delete",
        "type": "object",
        "properties": {id_field: _id_property(title, thing)},
        "required": [id_field],
    }


def _result_schema(id_title: str) -> dict[str, Any]:
    schema = record_result_schema()
    schema["properties"]["external_id"]["title"] = id_title
    schema["properties"]["key"]["description"] = "The record's id or name."
    return schema


class OneCallTarget(ActivityType):
    """A target that sends one request per record."""

    role = Role.TARGET
    id_field: ClassVar[str]
    id_title: ClassVar[str]
    action: ClassVar[str]
    key_field: ClassVar[str]  # the record's field that names it in the results
    definition: ClassVar[str]  # the contract's request body
    schema_title: ClassVar[str]
    # An update names its target: the id leads the body's properties ("list", "tag").
    id_of: ClassVar[str | None] = None
    required: ClassVar[tuple[str, ...] | None] = None  # else the contract's

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        schema = contract_schema(self.definition, request=True)
        if self.id_of:
            id_property = _id_property(self.id_title, self.id_of)
            schema["properties"] = {self.id_field: id_property, **schema["properties"]}
        if self.required is not None:
            schema["required"] = list(self.required)
        schema["title"] = self.schema_title
        return schema

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        return _result_schema(self.id_title)

    def record_key(self, record: Mapping[str, Any]) -> str:
        return str(record.get(self.key_field) or "")

    def call(self, client: ConstantContactClient, record: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, record: Mapping[str, Any], key: str) -> RecordResult | None:
        return None

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        with ConstantContactClient.for_run(context) as client:

            def one(record: Mapping[str, Any], key: str) -> RecordResult:
                failure = self.check(record, key)
                if failure:
                    return failure
                answer = self.call(client, record)
                return RecordResult.done(
                    key=key, external_id=str(answer.get(self.id_field) or ""), action=self.action
                )

            return write_each(context, batch, self.record_key, one)


def _fields(record: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {n: record[n] for n in names if record.get(n) is not None}


# ---------------------------------------------------------------------- lists


class CreateLists(OneCallTarget):
    key = "lists_create"
    name = "Create lists"
    description = "Creates contact lists (POST /contact_lists), one request per list."
    id_field, id_title, action = "list_id", "List ID", "created"
    key_field, definition, schema_title = "name", "ListInput", "List to create"

    def call(self, client: ConstantContactClient, record: Mapping[str, Any]) -> dict[str, Any]:
        body = _fields(record, ("name", "favorite", "description"))
        return client.send_json("POST", "/contact_lists", body)


class UpdateLists(OneCallTarget):
    key = "lists_update"
    name = "Update lists"
    description = (
        "Renames lists or changes their description or favourite mark (PUT "
        "/contact_lists/{list_id}); what a record leaves out is kept."
    )
    id_field, id_title, action = "list_id", "List ID", "updated"
    key_field, definition, schema_title = "list_id", "ListInput", "List to update"
    id_of, required = "list", ("list_id",)

    def check(self, record: Mapping[str, Any], key: str) -> RecordResult | None:
        return uuid_failure(record.get("list_id"), key, "list_id")

    def call(self, client: ConstantContactClient, record: Mapping[str, Any]) -> dict[str, Any]:
        # PUT replaces every property: start from the list as it is, so an omitted
        # description or favourite mark is kept rather than wiped.
        list_id = str(record["list_id"]).strip()
        current = client.get_json(f"/contact_lists/{list_id}")
        body = {**_fields(current, ("name", "favorite", "description"))}
        body.update(_fields(record, ("name", "favorite", "description")))
        return client.send_json("PUT", f"/contact_lists/{list_id}", body)


# ---------------------------------------------------------------------- tags


class CreateTags(OneCallTarget):
    key = "tags_create"
    name = "Create tags"
    description = "Creates tags (POST /contact_tags), one request per tag."
    id_field, id_title, action = "tag_id", "Tag ID", "created"
    key_field, definition, schema_title = "name", "TagPost", "Tag to create"

    def call(self, client: ConstantContactClient, record: Mapping[str, Any]) -> dict[str, Any]:
        return client.send_json("POST", "/contact_tags", _fields(record, ("name", "tag_source")))


class RenameTags(OneCallTarget):
    key = "tags_rename"
    name = "Rename tags"
    description = "Renames tags (PUT /contact_tags/{tag_id}), one request per tag."
    id_field, id_title, action = "tag_id", "Tag ID", "renamed"
    key_field, definition, schema_title = "tag_id", "TagPut", "Tag to rename"
    id_of, required = "tag", ("tag_id", "name")

    def check(self, record: Mapping[str, Any], key: str) -> RecordResult | None:
        failure = uuid_failure(record.get("tag_id"), key, "tag_id")
        if failure is None and not str(record.get("name") or "").strip():
            failure = RecordResult.failed(
                key=key, error_key="validation", error_message="A tag needs a new name."
            )
        return failure

    def call(self, client: ConstantContactClient, record: Mapping[str, Any]) -> dict[str, Any]:
        tag_id = str(record["tag_id"]).strip()
        answer = client.send_json("PUT", f"/contact_tags/{tag_id}", {"name": record["name"]})
        return {"tag_id": tag_id, **(answer or {})}


# ---------------------------------------------------------------------- custom fields


class CreateCustomFields(OneCallTarget):
    key = "custom_fields_create"
    name = "Create custom fields"
    description = "Creates custom fields (POST /contact_custom_fields), one request per field."
    id_field, id_title, action = "custom_field_id", "Custom field ID", "created"
    key_field, definition = "label", "CustomFieldRequest"
    schema_title, required = "Custom field to create", ("label", "type")

    def call(self, client: ConstantContactClient, record: Mapping[str, Any]) -> dict[str, Any]:
        body = _fields(record, ("label", "type", "metadata", "choices"))
        return client.send_json("POST", "/contact_custom_fields", body)


# ---------------------------------------------------------------------- bulk deletes


class BulkDelete(ActivityType):
    """Records naming things to delete, sent in bulk activities of ``per_request`` ids."""

    role = Role.TARGET
    id_field: ClassVar[str]
    id_title: ClassVar[str]
    thing: ClassVar[str]
    endpoint: ClassVar[str]
    body_key: ClassVar[str]
    per_request: ClassVar[int]
    config_fields = (poll_timeout_field("Bulk delete time limit (seconds)"),)

    def batch_size(self, config: Mapping[str, Any]) -> int:
        return self.per_request

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        return _id_schema(self.id_field, self.id_title, self.thing)

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        return _result_schema(self.id_title)

    def record_key(self, record: Mapping[str, Any]) -> str:
        return str(record.get(self.id_field) or "").strip()

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        with ConstantContactClient.for_run(context) as client:
            return bulk_by_id(
                context,
                ContactsApi(client),
                batch,
                key_of=self.record_key,
                what=self.id_field,
                per_request=self.per_request,
                start=lambda ids: client.send_json("POST", self.endpoint, {self.body_key: ids}),
                timeout=poll_timeout(config),
                label=f"Delete {self.thing}s",
                action="deleted",
            )


def bulk_by_id(
    context: RunContext,
    api: ContactsApi,
    batch: Sequence[Mapping[str, Any]],
    *,
    key_of: Callable[[Mapping[str, Any]], str],
    what: str,
    per_request: int,
    start: Callable[[list[str]], dict[str, Any]],
    timeout: float,
    label: str,
    action: str,
    summary: Callable[[dict[str, Any]], str] | None = None,
) -> list[RecordResult]:
    """One result per record: bad ids fail alone, the others go out in activities of at most
    ``per_request`` distinct ids (a repeated id is sent once and shares its outcome)."""
    results: list[RecordResult | None] = [None] * len(batch)
    first_of: dict[str, int] = {}
    refs: list[RowRef] = []
    rows_of: list[list[int]] = []
    for position, record in enumerate(batch):
        key = key_of(record)
        failure = uuid_failure(key, key, what)
        if failure:
            results[position] = report(context, position, failure)
            continue
        canonical = key.lower()
        if canonical in first_of:
            rows_of[first_of[canonical]].append(position)
            continue
        first_of[canonical] = len(refs)
        refs.append(RowRef(key=key, contact_id=canonical))
        rows_of.append([position])
    for chunk in chunk_ids(len(refs), per_request):
        chunk_refs = [refs[i] for i in chunk]
        ids = [r.contact_id for r in chunk_refs]
        # No bisection on a 400: every id is a checked UUID, sent once, so a refusal is about
        # the request (an unknown list or tag), which halving would only repeat.
        outcome = bulk_chunk(
            context,
            api,
            chunk_refs,
            partial(start, ids),
            timeout=timeout,
            label=label,
            action=action,
            error_key=f"{action}_error" if action else "error",
            summary=summary,
            journal_key=activity_journal_key(label, ids),
        )
        for i, result in zip(chunk, outcome, strict=True):
            for position in rows_of[i]:
                key = key_of(batch[position])
                shared = RecordResult(
                    ok=result.ok,
                    key=key,
                    external_id=result.external_id,
                    action=result.action,
                    error_key=result.error_key,
                    error_message=result.error_message,
                )
                results[position] = report(context, position, shared)
    return [r for r in results if r is not None]


class DeleteLists(BulkDelete):
    key = "lists_delete"
    name = "Delete lists"
    description = "Deletes contact lists in bulk (POST /activities/list_delete, 100 per request)."
    id_field, id_title, thing = "list_id", "List ID", "list"
    endpoint, body_key, per_request = "/activities/list_delete", "list_ids", 100


class DeleteTags(BulkDelete):
    key = "tags_delete"
    name = "Delete tags"
    description = (
        "Deletes tags in bulk (POST /activities/contacts_tags_delete, 500 per request); "
        "contacts lose them."
    )
    id_field, id_title, thing = "tag_id", "Tag ID", "tag"
    endpoint, body_key, per_request = "/activities/contacts_tags_delete", "tag_ids", 500


class DeleteCustomFields(BulkDelete):
    key = "custom_fields_delete"
    name = "Delete custom fields"
    description = (
        "Deletes custom fields in bulk (POST /activities/custom_fields_delete, 100 per "
        "request) with every contact's value of them."
    )
    id_field, id_title, thing = "custom_field_id", "Custom field ID", "custom field"
    endpoint, body_key, per_request = (
        "/activities/custom_fields_delete",
        "custom_field_ids",
        100,
    )


__all__ = [
    "CreateCustomFields",
    "CreateLists",
    "CreateTags",
    "DeleteCustomFields",
    "DeleteLists",
    "DeleteTags",
    "RenameTags",
    "UpdateLists",
]
