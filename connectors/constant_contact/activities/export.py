"""Query's export mode: large reads through a contact export instead of one call per page.

POST /activities/contact_exports starts an asynchronous activity; once it completes, its
`_links.results.href` (GET /contact_exports/{file_export_id}) is a CSV file of the contacts.
The file is read as it arrives (a streamed response through the csv module, a batch of
rows at a time), so memory stays flat however many contacts it holds: 200,000 contacts are
a handful of calls (start, polls, the file) instead of 400 pages.

Only what an export can express goes this way: all contacts, or members of lists, or
tagged contacts, or a segment, optionally with one status (with lists or alone). Email,
date, SMS filters, "updated since the last run" and sub-resources need page mode. Records
have the ContactResource shape of page mode (without sub-resources).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from connectors.base import ConnectorError, RunContext
from connectors.constant_contact.api import ContactsApi
from connectors.constant_contact.client import ConstantContactClient

AUTO, PAGES, EXPORT = "auto", "pages", "export"
MODES = (
    (AUTO, "Automatic: an export file above 5,000 contacts"),
    (PAGES, "Page by page (500 contacts per call)"),
    (EXPORT, "Export file (CSV), for large reads"),
)
EXPORT_THRESHOLD = 5_000
EXPORT_POLL_TIMEOUT = 3600.0
CHUNK = 16 * 1024
PAGE_ONLY = (
    "email",
    "sms_status",
    "include",
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
    "optout_after",
    "optout_before",
    "incremental",
)
SCALARS = ("first_name", "last_name", "job_title", "company_name", "anniversary")
NUMBERS = ("birthday_month", "birthday_day")
EMAIL_COLUMNS = {
    "email_permission_status": "permission_to_send",
    "email_optin_source": "opt_in_source",
    "email_optin_date": "opt_in_date",
    "email_optout_source": "opt_out_source",
    "email_optout_date": "opt_out_date",
    "email_optout_reason": "opt_out_reason",
}


def _values(config: Mapping[str, Any], name: str) -> list[str]:
    value = config.get(name)
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [str(v).strip() for v in items if str(v).strip()]


def export_problem(config: Mapping[str, Any]) -> str | None:
    """Why this Query cannot be an export (None: it can)."""
    page_only = [n for n in PAGE_ONLY if config.get(n) not in (None, "", [], (), False)]
    if page_only:
        return f"an export cannot filter or read by {', '.join(page_only)}"
    statuses = _values(config, "status")
    if len(statuses) > 1 or "all" in statuses:
        return "an export takes one status at most"
    if statuses and (_values(config, "tags") or config.get("segment_id")):
        return "an export combines a status only with lists"
    if _values(config, "tags") and _values(config, "lists"):
        return "an export takes lists or tags, not both"
    return None


def export_body(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ContactsExport body for this Query (see `export_problem` for what it cannot do)."""
    body: dict[str, Any] = {}
    if config.get("segment_id"):
        body["segment_id"] = int(str(config["segment_id"]).strip())
        return body
    if _values(config, "lists"):
        body["list_ids"] = _values(config, "lists")
    elif _values(config, "tags"):
        body["tag_ids"] = _values(config, "tags")
    statuses = _values(config, "status")
    if statuses:
        body["status"] = statuses[0]
    return body


def wants_export(config: Mapping[str, Any], counted: int | None) -> bool:
    """Export mode: asked for, or automatic with more than EXPORT_THRESHOLD contacts."""
    mode = config.get("mode") or AUTO
    if mode == PAGES or export_problem(config) is not None:
        return False
    return mode == EXPORT or (counted is not None and counted > EXPORT_THRESHOLD)


def to_record(row: Mapping[str, str]) -> dict[str, Any]:
    """One CSV row as a ContactResource-shaped record (empty cells left out)."""
    record: dict[str, Any] = {}
    if row.get("contact_id"):
        record["contact_id"] = row["contact_id"]
    email = {EMAIL_COLUMNS[k]: v for k, v in row.items() if k in EMAIL_COLUMNS and v}
    if row.get("email_address"):
        record["email_address"] = {"address": row["email_address"], **email}
    for name in SCALARS:
        if row.get(name):
            record[name] = row[name]
    for name in NUMBERS:
        if (row.get(name) or "").isdigit():
            record[name] = int(row[name])
    for name in ("created_at", "updated_at"):
        if row.get(name):
            record[name] = row[name]
    return record


def csv_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The lines of a body arriving in chunks, line ends kept (csv needs them inside quoted
    cells), decoded as they arrive: at most one chunk and one line are held at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    for chunk in chunks:
        # Split on LF only (a CRLF keeps its CR; other line breaks are cell text); the last
        # piece is a line still arriving.
        *lines, pending = (pending + decoder.decode(chunk)).split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def read_export(
    context: RunContext,
    client: ConstantContactClient,
    config: Mapping[str, Any],
    *,
    batch_size: int,
    max_records: int = 0,
) -> Iterator[list[dict[str, Any]]]:
    """Start the export, wait for it, then stream its CSV as batches of records."""
    api = ContactsApi(client)
    started = client.send_json("POST", "/activities/contact_exports", export_body(config))
    final = api.wait_for_activity(
        started, timeout=EXPORT_POLL_TIMEOUT, is_cancelled=context.is_cancelled
    )
    href = ((final.get("_links") or {}).get("results") or {}).get("href")
    if final.get("state") != "completed" or not href:
        errors = "; ".join(str(e) for e in (final.get("activity_errors") or [])[:3])
        raise ConnectorError(
            f"Contact export {final.get('activity_id')} ended {final.get('state')}"
            + (f": {errors}" if errors else " without a file."),
            permanent=False,
            key="export_failed",
        )
    total = (final.get("status") or {}).get("items_total_count")
    context.log("info", f"Reading contact export {final.get('activity_id')} ({total} contacts).")
    response = client.request("GET", href, stream=True, accept="text/csv")
    try:
        batch: list[dict[str, Any]] = []
        for seen, row in enumerate(
            csv.DictReader(csv_lines(response.iter_content(CHUNK))), start=1
        ):
            batch.append(to_record(row))
            if max_records and seen >= max_records:
                break
            if len(batch) >= batch_size:
                yield batch
                batch = []
                if context.is_cancelled():
                    return
        if batch:
            yield batch
    finally:
        response.close()
