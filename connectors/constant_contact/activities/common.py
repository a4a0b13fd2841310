"""What the target activities share: one result per record, whatever goes wrong.

Failure policy (the engine relies on it):
  * A record-level problem (validation, 404, 409, any other 4xx about that record) fails
    that record with Constant Contact's error_key / error_message; the batch goes on.
  * A transient error that outlived the client's retries (429, 5xx, network) fails that
    record too, with that error. After ``MAX_TRANSIENT_STREAK`` such failures in a row the
    service is evidently down: the rest of the batch is failed with the same error without
    calling again (no record is dropped, and the run does not spend hours in backoff).
  * A connection-level error - the authorisation is gone (NeedsReconnect, 401 after the
    refresh), a scope is missing (403), the stored URL is refused - is raised as
    ConnectorError for the whole batch: every record would fail the same way, and the
    run must end in Error with that message.
  * If the run is cancelled mid-batch, the records not yet sent fail with "cancelled".
  * Each outcome is reported through ``context.on_result`` as soon as it is known, so the
    engine can commit it before a worker dies (issue 17.4).
  * A bulk activity's id is kept in ``context.journal`` before it is polled: an attempt
    resuming the batch polls that activity instead of starting the work again. A chunk
    Constant Contact refuses whole (400) is split in halves until the bad rows are alone.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from connectors.base import (
    ActivityType,
    ConnectorError,
    Field,
    FieldKind,
    RecordResult,
    RunContext,
)
from connectors.constant_contact.activities.bulk import RowRef, activity_results, unmatched_errors
from connectors.constant_contact.api import ContactsApi
from connectors.constant_contact.errors import ApiError

MAX_TRANSIENT_STREAK = 3
# Isolating the bad rows of a refused bulk chunk costs about 2 requests per bad row and
# halving level (a 40,000-row chunk has 16). The budget per chunk isolates this many bad
# rows (at least MAX_BISECT_REQUESTS requests), so a refusal that is not about a few rows
# (every half refused alike) cannot eat the daily quota.
BISECT_BAD_ROWS = 5
MAX_BISECT_REQUESTS = 100
# Log each split as a warning up to this many times per chunk; the total comes at the end.
MAX_SPLIT_WARNINGS = 5
DEFAULT_POLL_TIMEOUT = 1800
CONNECTION_LEVEL_STATUSES = frozenset({401, 403})
SOURCES = (("Account", "Account (you added the contact)"), ("Contact", "Contact (they signed up)"))


def update_source_field(name: str = "update_source", label: str = "Update source") -> Field:
    return Field(
        name,
        label,
        FieldKind.CHOICE,
        required=True,
        default="Account",
        choices=SOURCES,
        help="Who is changing the contact, as Constant Contact requires for compliance.",
    )


def poll_timeout_field(label: str) -> Field:
    return Field(
        "poll_timeout",
        label,
        FieldKind.INTEGER,
        default=DEFAULT_POLL_TIMEOUT,
        min_value=10,
        advanced=True,
    )


def poll_timeout(config: Mapping[str, Any]) -> float:
    return float(config.get("poll_timeout") or DEFAULT_POLL_TIMEOUT)


def check_config(activity: ActivityType, config: Mapping[str, Any]) -> None:
    """A bad configuration fails the whole batch, before anything is sent."""
    problems = activity.validate_config(config)
    if problems:
        raise ConnectorError("; ".join(problems.values()), permanent=True, key="config")


def is_connection_level(exc: ConnectorError) -> bool:
    if isinstance(exc, ApiError):
        return exc.status in CONNECTION_LEVEL_STATUSES
    return exc.permanent  # e.g. NeedsReconnect, url_not_allowed, foreign_link


def failure_from(exc: ConnectorError, key: str) -> RecordResult:
    message = exc.error_message if isinstance(exc, ApiError) else exc.message
    return RecordResult.failed(key=key, error_key=exc.key or "error", error_message=message)


def cancelled(key: str) -> RecordResult:
    return RecordResult.failed(
        key=key, error_key="cancelled", error_message="The run was cancelled before this record."
    )


def report(context: RunContext, index: int, result: RecordResult) -> RecordResult:
    """Tell the engine a record's outcome now (it commits them every ~1 s)."""
    if context.on_result is not None:
        context.on_result(index, result)
    return result


def write_each(
    context: RunContext,
    batch: Sequence[Mapping[str, Any]],
    key_of: Callable[[Mapping[str, Any]], str],
    handle: Callable[[Mapping[str, Any], str], RecordResult],
    *,
    final: bool = True,
) -> list[RecordResult]:
    """Run ``handle`` per record under the failure policy above; one result per record.

    ``final``: the results are the records' outcomes, reported one by one as they come
    (False for a preliminary pass, e.g. resolving ids before a bulk delete).
    """
    results: list[RecordResult] = []
    streak = 0
    outage: ConnectorError | None = None

    def done(result: RecordResult) -> None:
        results.append(report(context, len(results), result) if final else result)

    for record in batch:
        key = key_of(record)
        if outage is not None:
            done(failure_from(outage, key))
            continue
        if context.is_cancelled():
            done(cancelled(key))
            continue
        try:
            done(handle(record, key))
            streak = 0
        except ConnectorError as exc:
            if is_connection_level(exc):
                exc.done = results  # the records before this one were written
                raise
            done(failure_from(exc, key))
            if exc.permanent:
                streak = 0
                continue
            streak += 1
            if streak >= MAX_TRANSIENT_STREAK:
                outage = exc
                context.log(
                    "error",
                    f"{streak} records in a row failed with {exc.key or 'an error'}: failing "
                    "the rest of this batch without sending it.",
                )
    return results


def activity_journal_key(label: str, row_keys: Sequence[str]) -> str:
    """The journal key of the bulk activity for exactly these rows, in this order."""
    digest = hashlib.sha256("\n".join(row_keys).encode()).hexdigest()[:32]
    return f"bulk.activity:{label}:{digest}"


def bulk_chunk(
    context: RunContext,
    api: ContactsApi,
    refs: list[RowRef],
    start: Callable[[], dict[str, Any]],
    *,
    timeout: float,
    label: str,
    action: str,
    error_key: str,
    summary: Callable[[dict[str, Any]], str] | None = None,
    journal_key: str = "",
    on_refused: Callable[[ApiError], list[RecordResult]] | None = None,
) -> list[RecordResult]:
    """One bulk activity for ``refs`` under the failure policy above: ``start`` it, wait for
    it to end, and give one result per row.

    Cancelled before the start, every row fails "cancelled"; an error starting or following
    the activity fails every row with it, unless it is connection-level (raised). Messages
    that name no row are logged as warnings, then ``summary(final)`` as info if given.

    ``journal_key``: the activity id is kept there before polling; if it is already there
    (an attempt that died while polling), that activity is polled and nothing is started.
    ``on_refused``: called instead when Constant Contact refuses the start with a 400 (a
    bad row somewhere in the chunk); it gives the rows' results another way (bisection).
    """
    if context.is_cancelled():
        return [cancelled(r.key) for r in refs]
    try:
        known = context.journal.get(journal_key) if journal_key else None
        if isinstance(known, str) and known:
            context.log("info", f"{label}: resuming activity {known}, started before.")
            activity: dict[str, Any] = {"activity_id": known, "state": "unknown"}
        else:
            try:
                activity = start()
            except ApiError as exc:
                if exc.status == 400 and on_refused is not None:
                    return on_refused(exc)
                raise
            activity_id = activity.get("activity_id") if isinstance(activity, dict) else None
            if journal_key and activity_id:
                context.journal.put(journal_key, str(activity_id))
        final = api.wait_for_activity(activity, timeout=timeout, is_cancelled=context.is_cancelled)
    except ConnectorError as exc:
        if is_connection_level(exc):
            raise
        return [failure_from(exc, r.key) for r in refs]
    for message in unmatched_errors(final.get("activity_errors") or [], refs)[:20]:
        context.log("warning", f"{label} {final.get('activity_id')}: {message}")
    if summary is not None:
        context.log("info", summary(final))
    return activity_results(final, refs, action=action, error_key=error_key)


def bulk_rows(
    context: RunContext,
    api: ContactsApi,
    refs: list[RowRef],
    start_for: Callable[[list[int]], dict[str, Any]],
    *,
    timeout: float,
    label: str,
    action: str,
    error_key: str,
    summary: Callable[[dict[str, Any]], str] | None = None,
) -> list[RecordResult]:
    """``refs`` as one bulk activity (``start_for(indices)`` starts it for those rows), one
    result per row. If Constant Contact refuses it whole (400), each half is sent apart,
    down to single rows, so only the bad rows fail; the extra requests are logged and
    bounded (past the budget, the rows still refused fail with the 400)."""
    levels = max(1, math.ceil(math.log2(max(2, len(refs)))))
    budget = max(MAX_BISECT_REQUESTS, 2 * levels * BISECT_BAD_ROWS)
    extra = 0
    splits = 0

    def run(indices: list[int]) -> list[RecordResult]:
        chunk = [refs[i] for i in indices]

        def halves(exc: ApiError) -> list[RecordResult]:
            nonlocal extra, splits
            if len(indices) == 1:
                return [failure_from(exc, chunk[0].key)]
            if extra + 2 > budget:
                context.log(
                    "error",
                    f"{label}: gave up isolating refused rows after {extra} extra requests; "
                    f"{len(indices)} rows fail with Constant Contact's refusal.",
                )
                return [failure_from(exc, r.key) for r in chunk]
            splits += 1
            if splits <= MAX_SPLIT_WARNINGS:
                context.log(
                    "warning",
                    f"{label}: Constant Contact refused {len(indices)} rows at once "
                    f"({exc.error_message}); sending each half apart to find the bad rows "
                    "(extra requests).",
                )
            extra += 2
            middle = len(indices) // 2
            return run(indices[:middle]) + run(indices[middle:])

        return bulk_chunk(
            context,
            api,
            chunk,
            partial(start_for, indices),
            timeout=timeout,
            label=label,
            action=action,
            error_key=error_key,
            summary=summary,
            journal_key=activity_journal_key(label, [f"{r.key}|{r.contact_id}" for r in chunk]),
            on_refused=halves,
        )

    results = run(list(range(len(refs))))
    if extra:
        context.log("info", f"{label}: isolating the refused rows took {extra} extra requests.")
    return results
