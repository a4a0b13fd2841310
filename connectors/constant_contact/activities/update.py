"""Update: change existing contacts, found by contact id or by email address."""

from __future__ import annotations

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
from connectors.constant_contact import custom_field_names, flat
from connectors.constant_contact.activities.common import (
    check_config,
    update_source_field,
    write_each,
)
from connectors.constant_contact.api import (
    ContactsApi,
    merge_includes,
    merged_put_body,
    replace_put_body,
)
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.errors import ApiError
from connectors.constant_contact.records import RecordChecker, clean, email_of
from connectors.constant_contact.schemas import record_result_schema, update_contact_schema

BY_ID, BY_EMAIL = "contact_id", "email"
MERGE, REPLACE = "merge", "replace"
NOT_FOUND = "not_found"


def not_found(key: str, how: str) -> RecordResult:
    return RecordResult.failed(
        key=key, error_key=NOT_FOUND, error_message=f"No contact with this {how}."
    )


def find_contact(
    api: ContactsApi, record: Mapping[str, Any], match_by: str, include: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """The contact a record points at, or None (deleted contacts count as missing)."""
    if match_by == BY_ID:
        try:
            return api.get(str(record["contact_id"]).strip(), include)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
    return api.find_by_email(email_of(record), include)


def match_failure(record: Mapping[str, Any], match_by: str, key: str) -> RecordResult | None:
    """The record's failure if it lacks what it is to be found by, else None."""
    if match_by == BY_ID and not str(record.get("contact_id") or "").strip():
        problem = "The record has no contact_id to find the contact by."
    elif match_by == BY_EMAIL and not email_of(record):
        problem = "The record has no email address to find the contact by."
    else:
        return None
    return RecordResult.failed(key=key, error_key="validation", error_message=problem)


MATCH_FIELD = Field(
    "match_by",
    "Find the contact by",
    FieldKind.CHOICE,
    required=True,
    default=BY_ID,
    choices=((BY_ID, "Contact ID"), (BY_EMAIL, "Email address")),
)


class UpdateContacts(ActivityType):
    key = "update"
    name = "Update contacts"
    role = Role.TARGET
    description = "Changes existing contacts: merges the mapped fields, or replaces them."
    config_fields = (
        MATCH_FIELD,
        Field(
            "mode",
            "Mapped fields",
            FieldKind.CHOICE,
            required=True,
            default=MERGE,
            choices=(
                (MERGE, "Merge into the contact (keep what is not mapped)"),
                (REPLACE, "Replace the contact's fields (clear what is not mapped)"),
            ),
        ),
        update_source_field(),
        flat.RECORD_SHAPE_FIELD,
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors = {}
        if (config.get("match_by") or BY_ID) not in (BY_ID, BY_EMAIL):
            errors["match_by"] = "Contact ID or email address."
        if (config.get("mode") or MERGE) not in (MERGE, REPLACE):
            errors["mode"] = "Merge or replace."
        if (config.get("update_source") or "Account") not in ("Account", "Contact"):
            errors["update_source"] = "Account or Contact."
        return errors

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        by_id = (config.get("match_by") or BY_ID) == BY_ID
        if config.get("record_shape") == flat.FLAT:
            schema = flat.flat_schema(contact_id=True)
            schema["required"] = ["contact_id"] if by_id else ["email"]
            return schema
        schema = update_contact_schema()
        schema["required"] = ["contact_id"] if by_id else []
        return schema

    def target_field_pickers(self, config: Mapping[str, Any]) -> tuple:
        return flat.custom_field_pickers(config)

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        return record_result_schema()

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        check_config(self, config)
        match_by = config.get("match_by") or BY_ID
        replace = (config.get("mode") or MERGE) == REPLACE
        update_source = config.get("update_source") or "Account"
        is_flat = config.get("record_shape") == flat.FLAT
        # Flat records are checked in the contract's shape, after conversion.
        checker = RecordChecker(
            self.request_schema({**config, "record_shape": ""}), email="optional"
        )

        with ConstantContactClient.for_run(context) as client:
            api = ContactsApi(client)

            def one(record: Mapping[str, Any], key: str) -> RecordResult:
                if is_flat:  # custom fields may be named rather than given by id (issue 14)
                    record, unknown = custom_field_names.resolve(context, client, clean(record))
                    if unknown:
                        return RecordResult.failed(
                            key=key, error_key="validation", error_message=unknown
                        )
                body = clean(flat.to_contact(record) if is_flat else record)
                failure = match_failure(body, match_by, key) or checker.failure(body, key)
                if failure:
                    return failure
                changes = {k: v for k, v in body.items() if k != "contact_id"}
                include = () if replace else merge_includes(changes)
                existing = find_contact(api, body, match_by, include)
                if existing is None:
                    return not_found(key, "contact ID" if match_by == BY_ID else "email address")
                contact_id = str(existing["contact_id"])
                build = replace_put_body if replace else merged_put_body
                api.put(contact_id, build(existing, changes, update_source=update_source))
                return RecordResult.done(key=key, external_id=contact_id, action="updated")

            return write_each(context, batch, self.record_key, one)
