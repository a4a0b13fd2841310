"""Create: new contacts, one request each, create-or-update, or bulk import."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import (
    ActivityType,
    ConnectorError,
    Field,
    FieldKind,
    RecordResult,
    Role,
    RunContext,
)
from connectors.constant_contact import custom_field_names, flat
from connectors.constant_contact.activities.bulk import MAX_IMPORT_ROWS, RowRef, chunk_rows
from connectors.constant_contact.activities.common import (
    SOURCES,
    bulk_rows,
    check_config,
    failure_from,
    poll_timeout,
    poll_timeout_field,
    report,
    update_source_field,
    write_each,
)
from connectors.constant_contact.activities.query import as_list
from connectors.constant_contact.api import (
    ContactsApi,
    conflicting_contact_id,
    merge_includes,
    merged_put_body,
)
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.errors import ApiError
from connectors.constant_contact.records import RecordChecker, clean, email_of
from connectors.constant_contact.schemas import (
    bulk_import_row_schema,
    create_contact_schema,
    record_result_schema,
    sign_up_form_schema,
)
from connectors.http import NO_RETRY

SINGLE, UPSERT, BULK = "single", "upsert", "bulk"
FAIL, SKIP, UPDATE = "fail", "skip", "update"
CONFLICT_KEY = "contacts.api.conflict"
# A contact counts as created by our own earlier try only if Constant Contact stamped it no
# earlier than our first send, give or take this much clock difference between the hosts
# (and the stamp's millisecond rounding), and it holds the fields we sent.
CLOCK_TOLERANCE = 1.0
FIRST_SEND = "create.first_send:"  # + email: the journal key of a record's first send
# The fields compared when reading back: text Constant Contact stores as sent (dates and
# numbers may come back normalised, and would make a proof fail for nothing).
PROOF_FIELDS = ("first_name", "last_name", "job_title", "company_name")


class CreateContacts(ActivityType):
    key = "create"
    name = "Create contacts"
    role = Role.TARGET
    description = "Adds contacts: one request each, create-or-update, or a bulk import."
    config_fields = (
        Field(
            "mode",
            "How",
            FieldKind.CHOICE,
            required=True,
            default=SINGLE,
            choices=(
                (SINGLE, "One request per contact (POST /contacts)"),
                (UPSERT, "Create or update by email (sign-up form)"),
                (BULK, "Bulk import (fastest; no contact ids returned)"),
            ),
        ),
        Field(
            "create_source",
            "Create source",
            FieldKind.CHOICE,
            required=True,
            default="Account",
            choices=SOURCES,
            help="Who is adding the contact, as Constant Contact requires for compliance.",
        ),
        Field(
            "on_duplicate",
            "When the email address already exists",
            FieldKind.CHOICE,
            default=FAIL,
            choices=(
                (FAIL, "Fail the record"),
                (SKIP, "Skip it"),
                (UPDATE, "Update that contact"),
            ),
            help="Only for one request per contact.",
        ),
        update_source_field(),
        Field(
            "list_ids",
            "List IDs",
            FieldKind.LIST,
            help="Lists to add the contacts to: required for bulk import and create-or-"
            "update (1 to 50).",
            picker="lists",
        ),
        flat.RECORD_SHAPE_FIELD,
        poll_timeout_field("Bulk import time limit (seconds)"),
    )

    # ---------------------------------------------------------------- configuration

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        mode = config.get("mode") or SINGLE
        if mode not in (SINGLE, UPSERT, BULK):
            errors["mode"] = "Choose how to create contacts."
        if (config.get("create_source") or "Account") not in dict(SOURCES):
            errors["create_source"] = "Account or Contact."
        if (config.get("on_duplicate") or FAIL) not in (FAIL, SKIP, UPDATE):
            errors["on_duplicate"] = "Fail, skip or update."
        list_ids = as_list(config.get("list_ids"))
        if mode == BULK and not 1 <= len(list_ids) <= 50:
            errors["list_ids"] = "A bulk import needs 1 to 50 list IDs."
        elif len(list_ids) > 50:
            errors["list_ids"] = "At most 50 list IDs."
        return errors

    def batch_size(self, config: Mapping[str, Any]) -> int:
        # One bulk request carries up to 40,000 contacts; per-record modes gain nothing
        # from large batches and report progress more often with small ones.
        return MAX_IMPORT_ROWS if config.get("mode") == BULK else self.preferred_batch_size

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        mode = config.get("mode") or SINGLE
        if mode == BULK:
            return bulk_import_row_schema()  # already flat: the import's own columns
        if config.get("record_shape") == flat.FLAT:
            return flat.flat_schema()
        return self._contract_schema(mode)

    @staticmethod
    def _contract_schema(mode: str) -> dict:
        return sign_up_form_schema() if mode == UPSERT else create_contact_schema()

    def target_field_pickers(self, config: Mapping[str, Any]) -> tuple:
        return flat.custom_field_pickers(config, bulk=(config.get("mode") or SINGLE) == BULK)

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        return record_result_schema()

    def record_key(self, record: Mapping[str, Any]) -> str:
        return email_of(record)

    # ---------------------------------------------------------------- running

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        check_config(self, config)
        mode = config.get("mode") or SINGLE
        is_flat = config.get("record_shape") == flat.FLAT
        with ConstantContactClient.for_run(context) as client:
            api = ContactsApi(client)
            if mode == BULK:
                checker = RecordChecker(bulk_import_row_schema())
                return self._bulk(context, config, api, checker, batch)
            # Flat records are checked in the contract's shape, after conversion.
            checker = RecordChecker(self._contract_schema(mode))
            sent_here: set[str] = set()  # emails this call already sent (in-batch repeats)

            def handle(
                api: ContactsApi, config: Mapping[str, Any], body: dict[str, Any], key: str
            ) -> RecordResult:
                if mode == UPSERT:  # create-or-update: idempotent, nothing to resolve
                    return self._upsert(api, config, body, key)
                first_send = _first_send(context, email_of(body), sent_here)
                return self._single(api, config, body, key, first_send)

            def one(record: Mapping[str, Any], key: str) -> RecordResult:
                if is_flat:
                    # Custom fields may be named rather than given by id (issue 14).
                    record, unknown = custom_field_names.resolve(context, api.client, clean(record))
                    if unknown:
                        return RecordResult.failed(
                            key=key, error_key="validation", error_message=unknown
                        )
                    record = flat.to_contact(record, sign_up_form=mode == UPSERT)
                body = clean(record, email_object=mode == SINGLE)
                if mode == UPSERT and not body.get("list_memberships"):
                    # The sign-up form needs lists; the configured ones are the default.
                    body["list_memberships"] = as_list(config.get("list_ids"))
                return checker.failure(body, key) or handle(api, config, body, key)

            return write_each(context, batch, self.record_key, one)

    def _single(
        self,
        api: ContactsApi,
        config: Mapping[str, Any],
        body: dict[str, Any],
        key: str,
        first_send: _FirstSend,
    ) -> RecordResult:
        """POST one contact. A 409 is our own earlier try only when proven (issue 17.1):
        after a 429 nothing was processed, so it is a real duplicate; after an ambiguous
        failure (5xx, time-out, dropped connection) or a send by an attempt that died, the
        contact is read back and called ours only if created since our first send with the
        fields we sent. Anything else gets the duplicate policy."""
        payload = {**body, "create_source": config.get("create_source") or "Account"}
        try:
            created = api.create(payload)
        except ApiError as exc:
            if exc.status != 409:
                return self._after_failure(api, body, key, first_send, exc)
            contact_id = conflicting_contact_id(exc.error_message)
            existing = None
            if exc.maybe_processed or first_send.earlier_attempt:
                existing = _read_back(api, contact_id, body)
                if existing is not None and _created_by_us(existing, body, first_send.at):
                    return _created(key, existing)
            return self._duplicate(api, config, body, key, exc, existing)
        except ConnectorError as exc:
            return self._after_failure(api, body, key, first_send, exc)
        return _created(key, created)

    def _after_failure(
        self,
        api: ContactsApi,
        body: dict[str, Any],
        key: str,
        first_send: _FirstSend,
        exc: ConnectorError,
    ) -> RecordResult:
        """The create failed for good; if a try may have been processed, look before saying
        so: a contact created by it is done, not failed (and not re-sent by a re-run)."""
        if exc.permanent or not exc.maybe_processed:
            raise exc
        try:
            # One look, no retries: the service just failed us several times over.
            existing = api.find_by_email(email_of(body), retry=NO_RETRY)
        except ConnectorError:
            raise exc from None  # still unreachable: report the create's own failure
        if existing is not None and _created_by_us(existing, body, first_send.at):
            return _created(key, existing)
        raise exc

    def _duplicate(
        self,
        api: ContactsApi,
        config: Mapping[str, Any],
        body: dict[str, Any],
        key: str,
        exc: ApiError,
        existing: dict[str, Any] | None = None,
    ) -> RecordResult:
        policy = config.get("on_duplicate") or FAIL
        if policy == FAIL:
            return failure_from(exc, key)
        contact_id = conflicting_contact_id(exc.error_message)
        if not contact_id:  # the message changed shape: find the contact by its email
            existing = existing or api.find_by_email(email_of(body))
            contact_id = str((existing or {}).get("contact_id", ""))
        if not contact_id:
            return failure_from(exc, key)
        if policy == SKIP:
            return RecordResult.done(key=key, external_id=contact_id, action="skipped")
        if existing is None or merge_includes(body):
            existing = api.get(contact_id, merge_includes(body))
        put = merged_put_body(
            existing, body, update_source=config.get("update_source") or "Account"
        )
        api.put(contact_id, put)
        return RecordResult.done(key=key, external_id=contact_id, action="updated")

    def _upsert(
        self, api: ContactsApi, config: Mapping[str, Any], body: dict[str, Any], key: str
    ) -> RecordResult:
        answer = api.sign_up(body)
        return RecordResult.done(
            key=key,
            external_id=str(answer.get("contact_id", "")),
            action=str(answer.get("action") or "created"),
        )

    # ---------------------------------------------------------------- bulk import

    def _bulk(
        self,
        context: RunContext,
        config: Mapping[str, Any],
        api: ContactsApi,
        checker: RecordChecker,
        batch: Sequence[Mapping[str, Any]],
    ) -> list[RecordResult]:
        list_ids = as_list(config.get("list_ids"))
        timeout = poll_timeout(config)
        results: list[RecordResult | None] = [None] * len(batch)
        rows: list[dict[str, Any]] = []
        positions: list[int] = []  # rows[i] is batch[positions[i]]
        for position, record in enumerate(batch):
            row = {k: v for k, v in record.items() if v not in (None, "")}
            if isinstance(row.get("email"), str):
                row["email"] = row["email"].strip()
            # A row Constant Contact would refuse (an unknown column included: the schema
            # allows none) fails alone here, instead of getting its chunk refused.
            failure = checker.failure(row, email_of(row))
            if failure:
                results[position] = report(context, position, failure)
            else:
                rows.append(row)
                positions.append(position)

        for chunk in chunk_rows(rows, list_ids=list_ids):
            chunk_data = [rows[i] for i in chunk]
            refs = [RowRef(key=email_of(row), email=email_of(row)) for row in chunk_data]

            def start(indices: list[int], chunk_data: list[dict] = chunk_data) -> dict:
                body = {"import_data": [chunk_data[i] for i in indices], "list_ids": list_ids}
                return api.import_json(body)

            outcome = bulk_rows(
                context,
                api,
                refs,
                start,
                timeout=timeout,
                label="Bulk import",
                action="imported",
                error_key="import_error",
                summary=_import_summary,
            )
            for i, result in zip(chunk, outcome, strict=True):
                results[positions[i]] = report(context, positions[i], result)
        return [r for r in results if r is not None]


@dataclass(frozen=True, slots=True)
class _FirstSend:
    """When a record was first sent, and whether that was by an earlier, dead attempt."""

    at: float
    earlier_attempt: bool


def _first_send(context: RunContext, email: str, sent_here: set[str]) -> _FirstSend:
    """The record's first-send time, kept in the run journal before the first send, so an
    attempt resuming this batch can tell a contact it created from a pre-existing one."""
    address = email.strip().lower()
    key = FIRST_SEND + address
    if address and address not in sent_here:
        sent_here.add(address)
        earlier = context.journal.get(key)
        if isinstance(earlier, int | float):
            return _FirstSend(float(earlier), earlier_attempt=True)
        now = time.time()
        context.journal.put(key, now)
        return _FirstSend(now, earlier_attempt=False)
    # The same email again within this batch: the contact the first one created is not
    # this record's doing, so only this send counts.
    return _FirstSend(time.time(), earlier_attempt=False)


def _read_back(api: ContactsApi, contact_id: str, body: Mapping[str, Any]) -> dict | None:
    if contact_id:
        try:
            return api.get(contact_id)
        except ApiError as exc:
            if exc.status != 404:
                raise
    return api.find_by_email(email_of(body))


def _created_by_us(contact: Mapping[str, Any], body: Mapping[str, Any], first_send: float) -> bool:
    stamp = str(contact.get("created_at") or "")
    try:
        created = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False  # no proof
    if created < first_send - CLOCK_TOLERANCE:
        return False
    return all(contact.get(name) == body[name] for name in PROOF_FIELDS if name in body)


def _created(key: str, contact: Mapping[str, Any]) -> RecordResult:
    return RecordResult.done(
        key=key, external_id=str(contact.get("contact_id", "")), action="created"
    )


def _import_summary(final: dict[str, Any]) -> str:
    status = final.get("status") or {}
    return (
        f"Bulk import {final.get('activity_id')} {final.get('state')}: "
        f"{status.get('person_count', '?')} imported, "
        f"{status.get('error_count', '?')} errors."
    )
