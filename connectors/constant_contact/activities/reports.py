"""Report sources: email campaign summaries, contacts' tracking activity, campaign tracking.

All read GET /reports/... pages (following `_links.next`, memory flat) and need the
`campaign_data` scope; a connection authorised before it was asked for gets Constant
Contact's 403 naming it (reconnect to grant it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from connectors.base import ActivityType, Field, FieldKind, RecordResult, Role, RunContext
from connectors.constant_contact.activities.catalog_targets import uuid_failure
from connectors.constant_contact.activities.common import check_config, write_each
from connectors.constant_contact.activities.memberships import id_list
from connectors.constant_contact.activities.query import as_list
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.errors import ApiError
from connectors.constant_contact.schemas import SCHEMA_DIALECT, contact_id_schema, contract_schema

CONTACT_EVENTS = (
    ("em_sends", "Sends"),
    ("em_opens", "Opens"),
    ("em_clicks", "Clicks"),
    ("em_bounces", "Bounces"),
    ("em_optouts", "Opt-outs"),
    ("em_forwards", "Forwards"),
)
TRACKING = {  # which list -> the contract's item definition
    "opens": "OpensTrackingActivity",
    "clicks": "ClicksTrackingActivity",
    "bounces": "BouncesTrackingActivity",
    "optouts": "OptoutsTrackingActivity",
}
MAX_CONTACTS = 1_000
PAGE_LIMIT = 100  # the contract's largest page of a contact's tracking activity
MAX_PER_CONTACT = 10_000  # what one record's response may carry (memory per batch)


def _is_uuid(value: str) -> bool:
    return uuid_failure(value, value, "id") is None


def _items(
    context: RunContext, client: ConstantContactClient, path: str, params: dict, key: str
) -> Iterator[list[dict[str, Any]]]:
    for page in client.paginate(path, params, items_key=key):
        items = page.get(key) or []
        if items:
            yield items
        if context.is_cancelled():
            return


class EmailCampaignSummaries(ActivityType):
    key = "reports_campaign_summaries"
    name = "Email campaign summaries"
    role = Role.SOURCE
    description = (
        "Each sent email campaign with its unique sends, opens, clicks, bounces and opt-outs "
        "(GET /reports/summary_reports/email_campaign_summaries)."
    )

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        schema = contract_schema("BulkEmailCampaignSummary")
        schema["title"] = "Email campaign summary"
        return schema

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        path = "/reports/summary_reports/email_campaign_summaries"
        with ConstantContactClient.for_run(context) as client:
            yield from _items(
                context, client, path, {"limit": "500"}, "bulk_email_campaign_summaries"
            )


class ContactTrackingActivity(ActivityType):
    key = "reports_contact_activity"
    name = "Contacts' tracking activity"
    role = Role.SOURCE
    description = (
        "What each contact did with your email campaigns, newest first "
        "(GET /reports/contact_reports/{contact_id}/activity_details). The contact ids may "
        "come from a variable a previous operation set."
    )
    config_fields = (
        Field(
            "contact_ids",
            "Contact IDs",
            FieldKind.LIST,
            required=True,
            help=f"Up to {MAX_CONTACTS:,} contact ids (comma separated) or a [variable].",
        ),
        Field(
            "tracking_activities",
            "Activities",
            FieldKind.MULTI_CHOICE,
            choices=CONTACT_EVENTS,
            help="Blank = all of them.",
        ),
        Field(
            "include_campaign_activity_names",
            "Campaign names",
            FieldKind.BOOLEAN,
            default=True,
            help="Off is faster for Constant Contact.",
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        ids = id_list(config.get("contact_ids"))
        errors = {}
        if not ids:
            errors["contact_ids"] = "Give at least one contact id."
        elif len(ids) > MAX_CONTACTS:
            errors["contact_ids"] = f"At most {MAX_CONTACTS:,} contacts."
        elif not all(_is_uuid(i) or i.startswith("[") for i in ids):
            bad = [i for i in ids if not _is_uuid(i)][:5]
            errors["contact_ids"] = f"Not contact ids (UUIDs): {', '.join(bad)}."
        unknown = set(as_list(config.get("tracking_activities"))) - dict(CONTACT_EVENTS).keys()
        if unknown:
            errors["tracking_activities"] = f"Unknown: {', '.join(sorted(unknown))}."
        return errors

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        schema = contract_schema("ContactTrackingActivity")
        schema["title"] = "Contact tracking activity"
        return schema

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        params: dict[str, Any] = {"limit": "100"}
        kinds = as_list(config.get("tracking_activities"))
        if kinds:
            params["tracking_activities_list"] = ",".join(kinds)
        if config.get("include_campaign_activity_names") is False:
            params["include_campaign_activity_names"] = "false"
        with ConstantContactClient.for_run(context) as client:
            for contact_id in id_list(config.get("contact_ids")):
                path = f"/reports/contact_reports/{contact_id}/activity_details"
                try:
                    yield from _items(context, client, path, params, "tracking_activities")
                except ApiError as exc:
                    if exc.status != 404:
                        raise
                    context.log("warning", f"Contact {contact_id}: {exc.error_message}")
                if context.is_cancelled():
                    return


def _contact_params(config: Mapping[str, Any], limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": str(limit)}
    kinds = as_list(config.get("tracking_activities"))
    if kinds:
        params["tracking_activities_list"] = ",".join(kinds)
    if config.get("include_campaign_activity_names") is False:
        params["include_campaign_activity_names"] = "false"
    return params


class ContactTrackingLookup(ActivityType):
    """The tracking report as a step fed by the previous one: each record names a contact,
    its response carries that contact's tracking activities (a target whose "what flows on"
    is its response, so later steps map or write them). One record's unknown contact fails
    that record, not the run."""

    key = "reports_contact_activity_lookup"
    name = "Look up contacts' tracking activity"
    role = Role.TARGET
    description = (
        "For each record's contact_id (from the previous step), what the contact did with "
        "your email campaigns, newest first (GET /reports/contact_reports/{contact_id}/"
        "activity_details, every page). Its response carries them on to the next steps."
    )
    preferred_batch_size = 100
    responds_per_record = True
    config_fields = (
        ContactTrackingActivity.config_fields[1],  # which activities
        ContactTrackingActivity.config_fields[2],  # campaign names
        Field(
            "page_size",
            "Page size",
            FieldKind.INTEGER,
            default=PAGE_LIMIT,
            min_value=1,
            max_value=PAGE_LIMIT,
            advanced=True,
            help="Activities per call (Constant Contact allows 1 to 100).",
        ),
        Field(
            "max_per_contact",
            "At most per contact",
            FieldKind.INTEGER,
            default=MAX_PER_CONTACT,
            min_value=1,
            max_value=MAX_PER_CONTACT,
            advanced=True,
            help="The newest activities kept for each contact (the rest are not read).",
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors = {}
        unknown = set(as_list(config.get("tracking_activities"))) - dict(CONTACT_EVENTS).keys()
        if unknown:
            errors["tracking_activities"] = f"Unknown: {', '.join(sorted(unknown))}."
        for name, top in (("page_size", PAGE_LIMIT), ("max_per_contact", MAX_PER_CONTACT)):
            value = config.get(name)
            if value not in (None, "") and not (str(value).isdigit() and 1 <= int(value) <= top):
                errors[name] = f"1 to {top:,}."
        return errors

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        return contact_id_schema("The contact whose tracking activity is read.")

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        item = contract_schema("ContactTrackingActivity")
        item.pop("$schema", None)
        return {
            "$schema": SCHEMA_DIALECT,
            "title": "Contact tracking activity",
            "type": "object",
            "properties": {
                "contact_id": {"type": "string", "title": "Contact ID"},
                "tracking_activities": {
                    "type": "array",
                    "title": "Tracking activities",
                    "description": "Newest first.",
                    "items": item,
                },
                "truncated": {
                    "type": "boolean",
                    "description": "More activities exist than 'At most per contact' kept.",
                },
            },
        }

    def record_key(self, record: Mapping[str, Any]) -> str:
        return str(record.get("contact_id") or "")

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        check_config(self, config)
        params = _contact_params(config, int(config.get("page_size") or PAGE_LIMIT))
        most = int(config.get("max_per_contact") or MAX_PER_CONTACT)
        with ConstantContactClient.for_run(context) as client:

            def handle(record: Mapping[str, Any], key: str) -> RecordResult:
                contact_id = key.strip()
                refused = uuid_failure(contact_id, key, "contact_id")
                if refused is not None:  # never sent: it can only be a 404
                    return refused
                path = f"/reports/contact_reports/{contact_id}/activity_details"
                kept: list[dict[str, Any]] = []
                truncated = False
                for page in client.paginate(path, params, items_key="tracking_activities"):
                    kept.extend(page.get("tracking_activities") or [])
                    if len(kept) >= most:
                        more = bool(((page.get("_links") or {}).get("next") or {}).get("href"))
                        truncated = len(kept) > most or more
                        kept = kept[:most]
                        break
                response = {
                    "contact_id": contact_id,
                    "tracking_activities": kept,
                    "truncated": truncated,
                }
                return RecordResult.done(
                    key=contact_id, external_id=contact_id, action="read", response=response
                )

            return write_each(context, batch, self.record_key, handle)


class CampaignTracking(ActivityType):
    key = "reports_campaign_tracking"
    name = "Campaign tracking list"
    role = Role.SOURCE
    description = (
        "The contacts who opened, clicked, bounced or opted out of one email campaign "
        "activity (GET /reports/email_reports/{campaign_activity_id}/tracking/...)."
    )
    config_fields = (
        Field(
            "campaign_activity_id",
            "Campaign activity ID",
            required=True,
            max_length=36,
            help="The email campaign activity (not the campaign) to report on.",
        ),
        Field(
            "tracking",
            "List",
            FieldKind.CHOICE,
            required=True,
            default="opens",
            choices=(
                ("opens", "Opens"),
                ("clicks", "Clicks"),
                ("bounces", "Bounces"),
                ("optouts", "Opt-outs"),
            ),
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors = {}
        activity_id = str(config.get("campaign_activity_id") or "").strip()
        if not (_is_uuid(activity_id) or activity_id.startswith("[")):
            errors["campaign_activity_id"] = "A campaign activity id (a UUID)."
        if (config.get("tracking") or "opens") not in TRACKING:
            errors["tracking"] = "Opens, clicks, bounces or opt-outs."
        return errors

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        which = config.get("tracking") or "opens"
        schema = contract_schema(TRACKING.get(which, "OpensTrackingActivity"))
        schema["title"] = f"Campaign {which}"
        return schema

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        activity_id = str(config["campaign_activity_id"]).strip()
        which = config.get("tracking") or "opens"
        path = f"/reports/email_reports/{activity_id}/tracking/{which}"
        with ConstantContactClient.for_run(context) as client:
            yield from _items(context, client, path, {"limit": "500"}, "tracking_activities")
