"""Delete: remove contacts by contact id or email, one by one or in bulk."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import (
    ActivityType,
    Field,
    FieldKind,
    RecordResult,
    Role,
    RunContext,
)
from connectors.constant_contact.activities.bulk import MAX_DELETE_IDS, RowRef, chunk_ids
from connectors.constant_contact.activities.common import (
    bulk_rows,
    check_config,
    poll_timeout,
    poll_timeout_field,
    report,
    write_each,
)
from connectors.constant_contact.activities.update import (
    BY_EMAIL,
    BY_ID,
    MATCH_FIELD,
    find_contact,
    match_failure,
    not_found,
)
from connectors.constant_contact.api import ContactsApi
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.errors import ApiError
from connectors.constant_contact.schemas import delete_contact_schema, record_result_schema

SINGLE, BULK = "single", "bulk"


def id_failure(record: Mapping[str, Any], key: str) -> RecordResult | None:
    """A contact id that is not a UUID fails alone: the contract allows only UUIDs, and
    one bad id would get a whole bulk request (up to 500 contacts) refused."""
    contact_id = str(record.get("contact_id") or "").strip()
    try:
        canonical = str(uuid.UUID(contact_id)) == contact_id.lower()  # 8-4-4-4-12 hex
    except ValueError:
        canonical = False
    if not canonical:
        return RecordResult.failed(
            key=key,
            error_key="validation",
            error_message=f"The contact_id {contact_id!r} is not a UUID.",
        )
    return None


class DeleteContacts(ActivityType):
    key = "delete"
    name = "Delete contacts"
    role = Role.TARGET
    description = "Deletes contacts (Constant Contact keeps them as deleted; they can return)."
    config_fields = (
        MATCH_FIELD,
        Field(
            "mode",
            "How",
            FieldKind.CHOICE,
            required=True,
            default=SINGLE,
            choices=(
                (SINGLE, "One request per contact"),
                (BULK, "Bulk delete (up to 500 contacts per request)"),
            ),
        ),
        poll_timeout_field("Bulk delete time limit (seconds)"),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors = {}
        if (config.get("match_by") or BY_ID) not in (BY_ID, BY_EMAIL):
            errors["match_by"] = "Contact ID or email address."
        if (config.get("mode") or SINGLE) not in (SINGLE, BULK):
            errors["mode"] = "One by one or bulk."
        return errors

    def batch_size(self, config: Mapping[str, Any]) -> int:
        return MAX_DELETE_IDS

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        schema = delete_contact_schema()
        by_id = (config.get("match_by") or BY_ID) == BY_ID
        schema["required"] = ["contact_id"] if by_id else ["email_address"]
        return schema

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        return record_result_schema()

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        check_config(self, config)
        match_by = config.get("match_by") or BY_ID
        how = "contact ID" if match_by == BY_ID else "email address"
        with ConstantContactClient.for_run(context) as client:
            api = ContactsApi(client)
            if (config.get("mode") or SINGLE) == BULK:
                return self._bulk(context, config, api, batch)

            def one(record: Mapping[str, Any], key: str) -> RecordResult:
                failure = match_failure(record, match_by, key)
                if not failure and match_by == BY_ID:
                    failure = id_failure(record, key)
                if failure:
                    return failure
                contact_id = str(record.get("contact_id") or "").strip()
                if match_by == BY_EMAIL:
                    found = find_contact(api, record, match_by)
                    if found is None:
                        return not_found(key, how)
                    contact_id = str(found["contact_id"])
                try:
                    api.delete(contact_id)
                except ApiError as exc:
                    if exc.status == 404:
                        return not_found(key, how)
                    raise
                return RecordResult.done(key=key, external_id=contact_id, action="deleted")

            return write_each(context, batch, self.record_key, one)

    def _bulk(
        self,
        context: RunContext,
        config: Mapping[str, Any],
        api: ContactsApi,
        batch: Sequence[Mapping[str, Any]],
    ) -> list[RecordResult]:
        match_by = config.get("match_by") or BY_ID
        timeout = poll_timeout(config)
        results: list[RecordResult | None] = [None] * len(batch)
        refs: list[RowRef] = []
        positions: list[int] = []

        # Resolve every record to a contact id first (by-email needs one lookup each).
        def resolve(record: Mapping[str, Any], key: str) -> RecordResult:
            failure = match_failure(record, match_by, key)
            if not failure and match_by == BY_ID:
                failure = id_failure(record, key)
            if failure:
                return failure
            if match_by == BY_ID:
                return RecordResult.done(key=key, external_id=str(record["contact_id"]).strip())
            found = find_contact(api, record, match_by)
            if found is None:
                return not_found(key, "email address")
            return RecordResult.done(key=key, external_id=str(found["contact_id"]))

        resolved_all = write_each(context, batch, self.record_key, resolve, final=False)
        for position, resolved in enumerate(resolved_all):
            if resolved.ok:
                refs.append(RowRef(key=resolved.key, contact_id=resolved.external_id))
                positions.append(position)
            else:
                results[position] = report(context, position, resolved)

        for chunk in chunk_ids(len(refs)):
            chunk_refs = [refs[i] for i in chunk]

            def start(indices: list[int], chunk_refs: list[RowRef] = chunk_refs) -> dict:
                return api.delete_bulk([chunk_refs[i].contact_id for i in indices])

            outcome = bulk_rows(
                context,
                api,
                chunk_refs,
                start,
                timeout=timeout,
                label="Bulk delete",
                action="deleted",
                error_key="delete_error",
            )
            for i, result in zip(chunk, outcome, strict=True):
                results[positions[i]] = report(context, positions[i], result)
        return [r for r in results if r is not None]
