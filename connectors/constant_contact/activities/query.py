"""Query: contacts from GET /contacts, one batch per page, memory flat."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import ActivityType, Field, FieldKind, Role, RunContext
from connectors.constant_contact.activities import export
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.contract import parse_datetime
from connectors.constant_contact.schemas import contact_resource_schema

STATUSES = (
    "all",
    "active",
    "deleted",
    "not_set",
    "pending_confirmation",
    "temp_hold",
    "unsubscribed",
)
SMS_STATUSES = ("all", "explicit", "unsubscribed", "pending_confirmation", "not_set")
INCLUDES = (
    "custom_fields",
    "list_memberships",
    "phone_numbers",
    "street_addresses",
    "taggings",
    "notes",
)
DATE_FILTERS = (
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
    "optout_after",
    "optout_before",
)
MAX_PAGE_SIZE = 500
WATERMARK = "watermark"


def _choices(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((v, v.replace("_", " ").capitalize()) for v in values)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as Constant Contact writes dates."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_iso(value: Any) -> str | None:
    """A config date value (datetime or ISO text) as ISO UTC; None if blank or invalid."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return iso_utc(value)
    parsed = parse_datetime(str(value))
    return iso_utc(parsed) if parsed else None


def as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


class QueryContacts(ActivityType):
    key = "query"
    name = "Query contacts"
    role = Role.SOURCE
    description = "Reads contacts, page by page, with Constant Contact's own filters."
    config_fields = (
        Field(
            "status",
            "Status",
            FieldKind.MULTI_CHOICE,
            choices=_choices(STATUSES),
            help="Blank = every contact that is not deleted.",
        ),
        Field("email", "Email address", max_length=80, help="Only the contact with this email."),
        Field(
            "lists",
            "List IDs",
            FieldKind.LIST,
            help="Members of any of these lists (<= 25).",
            picker="lists",
        ),
        Field(
            "tags",
            "Tag IDs",
            FieldKind.LIST,
            help="Contacts with any of these tags (<= 50).",
            picker="tags",
        ),
        Field(
            "segment_id",
            "Segment ID",
            help="Contacts in this segment; cannot be combined with other filters.",
            picker="segments",
        ),
        Field(
            "sms_status",
            "SMS status",
            FieldKind.MULTI_CHOICE,
            choices=_choices(SMS_STATUSES),
            advanced=True,
        ),
        *(
            Field(name, name.replace("_", " ").capitalize(), FieldKind.DATETIME)
            for name in DATE_FILTERS
        ),
        Field(
            "include",
            "Include",
            FieldKind.MULTI_CHOICE,
            choices=_choices(INCLUDES),
            help="Sub-resources to read with each contact.",
        ),
        Field(
            "page_size",
            "Page size",
            FieldKind.INTEGER,
            default=MAX_PAGE_SIZE,
            min_value=1,
            max_value=MAX_PAGE_SIZE,
            advanced=True,
            help="Contacts per request; the largest is the fastest.",
        ),
        Field(
            "max_records", "Maximum records", FieldKind.INTEGER, min_value=1, help="Blank = all."
        ),
        Field(
            "mode",
            "How to read",
            FieldKind.CHOICE,
            default=export.AUTO,
            choices=export.MODES,
            advanced=True,
            help="An export file takes a few calls however many contacts there are; it "
            "cannot filter by email, dates or SMS status, nor read sub-resources.",
        ),
        Field(
            "incremental",
            "Only contacts updated since the last successful run",
            FieldKind.BOOLEAN,
            default=False,
        ),
    )

    # ---------------------------------------------------------------- configuration

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for name in DATE_FILTERS:
            if config.get(name) not in (None, "") and as_iso(config.get(name)) is None:
                errors[name] = "Enter an ISO 8601 date and time, e.g. 2026-01-31T08:00:00Z."
        if len(as_list(config.get("lists"))) > 25:
            errors["lists"] = "At most 25 lists."
        if len(as_list(config.get("tags"))) > 50:
            errors["tags"] = "At most 50 tags."
        for name, allowed in (
            ("status", STATUSES),
            ("sms_status", SMS_STATUSES),
            ("include", INCLUDES),
        ):
            unknown = set(as_list(config.get(name))) - set(allowed)
            if unknown:
                errors[name] = f"Unknown value(s): {', '.join(sorted(unknown))}."
        for name, low, high in (("page_size", 1, MAX_PAGE_SIZE), ("max_records", 1, None)):
            value = config.get(name)
            if value in (None, ""):
                continue
            try:
                number = int(value)
            except (TypeError, ValueError):
                errors[name] = "Enter a whole number."
                continue
            if number < low or (high is not None and number > high):
                errors[name] = f"Between {low} and {high}." if high else f"At least {low}."
        if (config.get("mode") or export.AUTO) not in dict(export.MODES):
            errors["mode"] = "Automatic, page by page or export file."
        elif config.get("mode") == export.EXPORT and export.export_problem(config):
            errors["mode"] = f"Not as an export file: {export.export_problem(config)}."
        if config.get("segment_id"):
            others = [n for n in self._filter_names(config) if n != "segment_id"]
            if others or config.get("incremental"):
                errors["segment_id"] = (
                    "Constant Contact does not combine a segment with other filters "
                    "(or with 'only contacts updated since the last run')."
                )
        return errors

    @staticmethod
    def _filter_names(config: Mapping[str, Any]) -> list[str]:
        names = (
            "status",
            "email",
            "lists",
            "tags",
            "segment_id",
            "sms_status",
            "include",
            *DATE_FILTERS,
        )
        return [n for n in names if config.get(n) not in (None, "", [], ())]

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        schema = contact_resource_schema()
        # The contract's text describes the single-contact endpoint; a record here is one
        # contact of the GET /contacts pages.
        schema["description"] = "One contact, as GET /contacts returns it."
        wanted = set(as_list(config.get("include")))
        for name in INCLUDES:  # sub-resources not asked for never appear
            if name not in wanted:
                schema["properties"].pop(name, None)
        return schema

    def params(self, config: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, str]:
        """The GET /contacts query string for this configuration (and saved state)."""
        page_size = int(config.get("page_size") or MAX_PAGE_SIZE)
        max_records = int(config.get("max_records") or 0)
        if max_records:
            page_size = min(page_size, max_records)  # don't fetch a page we'll throw away
        params: dict[str, str] = {"limit": str(page_size)}
        if config.get("segment_id"):
            params["segment_id"] = str(config["segment_id"]).strip()
            return params
        for name in ("status", "lists", "tags", "sms_status", "include"):
            values = as_list(config.get(name))
            if values:
                params[name] = ",".join(values)
        if config.get("email"):
            params["email"] = str(config["email"]).strip()
        for name in DATE_FILTERS:
            value = as_iso(config.get(name))
            if value:
                params[name] = value
        watermark = as_iso(state.get(WATERMARK)) if config.get("incremental") else None
        if watermark and watermark > params.get("updated_after", ""):
            # Both in the same ISO UTC form, so text order is time order.
            params["updated_after"] = watermark
        return params

    # ---------------------------------------------------------------- running

    def estimate_total(self, context: RunContext, config: Mapping[str, Any]) -> int | None:
        """The count, from the first page itself (include_count=true): the page is kept for
        this run's read(), so counting costs no call of its own (issue 17.6)."""
        if config.get("segment_id"):
            return None  # segments don't take include_count
        params = {**self.params(config, context.state), "include_count": "true"}
        started = iso_utc(datetime.now(UTC))  # before the request: the next watermark
        with ConstantContactClient.for_run(context) as client:
            page = client.get_page("/contacts", params, items_key="contacts")
        _first_pages.keep(context, self.params(config, context.state), started, page)
        count = page.get("contacts_count")
        if not isinstance(count, int):
            return None
        max_records = int(config.get("max_records") or 0)
        return min(count, max_records) if max_records else count

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        if export.wants_export(config, _first_pages.count(context)):  # issue 14
            yield from self._read_export(context, config)
            return
        params = self.params(config, context.state)
        # The run's start is the next watermark: anything updated from now on is picked up
        # next time (at least once). Taken before the first request, so nothing slips by.
        started = iso_utc(datetime.now(UTC))
        prefetched = _first_pages.take(context, params)
        first_page = None
        if prefetched is not None:
            started, first_page = prefetched
        max_records = int(config.get("max_records") or 0)
        seen = 0
        complete = True
        with ConstantContactClient.for_run(context) as client:
            pages = client.paginate(
                "/contacts", params, items_key="contacts", first_page=first_page
            )
            for page in pages:
                contacts = page.get("contacts") or []
                if max_records and seen + len(contacts) >= max_records:
                    contacts = contacts[: max_records - seen]
                    more = bool((page.get("_links") or {}).get("next"))
                    complete = not more and seen + len(page.get("contacts") or []) <= max_records
                    seen += len(contacts)
                    if contacts:
                        yield contacts
                    break
                seen += len(contacts)
                if contacts:
                    yield contacts
                if context.is_cancelled():
                    complete = False
                    break
        context.log("info", f"Read {seen} contacts.")
        if config.get("incremental") and complete:
            context.new_state[WATERMARK] = started

    def _read_export(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        """Export mode (activities/export.py): a CSV export streamed into records."""
        _first_pages.take(context, self.params(config, context.state))  # not needed now
        seen = 0
        with ConstantContactClient.for_run(context) as client:
            for batch in export.read_export(
                context,
                client,
                config,
                batch_size=int(config.get("page_size") or MAX_PAGE_SIZE),
                max_records=int(config.get("max_records") or 0),
            ):
                seen += len(batch)
                yield batch
        context.log("info", f"Read {seen} contacts from an export file.")


class _FirstPages:
    """First pages fetched by estimate_total(), kept for the same run's read().

    Keyed by the RunContext object (held weakly: a run that never reads leaks nothing) and
    the exact query, so another run or another configuration always asks for itself.
    """

    def __init__(self) -> None:
        self._pages: dict[int, tuple[weakref.ref[RunContext], dict, str, dict]] = {}
        self._lock = threading.Lock()

    def keep(self, context: RunContext, params: dict, started: str, page: dict) -> None:
        with self._lock:
            self._pages = {k: v for k, v in self._pages.items() if v[0]() is not None}
            self._pages[id(context)] = (weakref.ref(context), params, started, page)

    def count(self, context: RunContext) -> int | None:
        """The contacts_count of the page kept for this run, without taking it."""
        with self._lock:
            kept = self._pages.get(id(context))
        if kept is None or kept[0]() is not context:
            return None
        count = kept[3].get("contacts_count")
        return count if isinstance(count, int) else None

    def take(self, context: RunContext, params: dict) -> tuple[str, dict] | None:
        with self._lock:
            kept = self._pages.pop(id(context), None)
        if kept is None or kept[0]() is not context or kept[1] != params:
            return None
        return kept[2], kept[3]


_first_pages = _FirstPages()
