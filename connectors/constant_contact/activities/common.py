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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def write_each(
    context: RunContext,
    batch: Sequence[Mapping[str, Any]],
    key_of: Callable[[Mapping[str, Any]], str],
    handle: Callable[[Mapping[str, Any], str], RecordResult],
) -> list[RecordResult]:
    """Run ``handle`` per record under the failure policy above; one result per record."""
    results: list[RecordResult] = []
    streak = 0
    outage: ConnectorError | None = None
    for record in batch:
        key = key_of(record)
        if outage is not None:
            results.append(failure_from(outage, key))
            continue
        if context.is_cancelled():
            results.append(cancelled(key))
            continue
        try:
            results.append(handle(record, key))
            streak = 0
        except ConnectorError as exc:
            if is_connection_level(exc):
                exc.done = results  # the records before this one were written
                raise
            results.append(failure_from(exc, key))
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
) -> list[RecordResult]:
    """One bulk activity for ``refs`` under the failure policy above: ``start`` it, wait for
    it to end, and give one result per row.

    Cancelled before the start, every row fails "cancelled"; an error starting or following
    the activity fails every row with it, unless it is connection-level (raised). Messages
    that name no row are logged as warnings, then ``summary(final)`` as info if given.
    """
    if context.is_cancelled():
        return [cancelled(r.key) for r in refs]
    try:
        final = api.wait_for_activity(start(), timeout=timeout, is_cancelled=context.is_cancelled)
    except ConnectorError as exc:
        if is_connection_level(exc):
            raise
        return [failure_from(exc, r.key) for r in refs]
    for message in unmatched_errors(final.get("activity_errors") or [], refs)[:20]:
        context.log("warning", f"{label} {final.get('activity_id')}: {message}")
    if summary is not None:
        context.log("info", summary(final))
    return activity_results(final, refs, action=action, error_key=error_key)
