"""The run engine's loop: source batches -> transformation -> target, until the source is done,
a cancel or the time-out stops it, or an error ends it.

It knows connectors only through ``connectors.base``. The pure steps (map a chunk, write a
batch, tally) are in ``steps``; every database write, ownership-checked, is in ``ledger``; the
run's heartbeat thread is in ``heartbeat``.

A batch in flight when a previous attempt died (the run was re-queued after its agent was
lost) is resumed first: its records without a committed result are written again, with
``RunContext.resuming`` set and the same journal, so the target can find out what the dead
attempt already did (an import it started, records it created) instead of doing it twice.
``on_result`` indexes always refer to the batch passed to that ``write()`` call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from connectors.base import (
    ActivityType,
    ConnectorError,
    NeedsReconnect,
    RecordResult,
    RunContext,
)
from connectors.registry import get_connector
from designer.design.connection_context import DbConnection
from designer.design.integrations import connection_extras
from designer.design.models import Activity
from designer.projects.variables import MissingVariable, resolve, secret_values
from designer.runs import services, steps
from designer.runs.heartbeat import Heartbeat
from designer.runs.ledger import DbJournal, Lost, RunLedger
from designer.runs.models import LogLevel, OperationRun, RunStatus, RunTrigger
from designer.transformations.mapping import compile_mapping

logger = logging.getLogger(__name__)

CANCEL_CHECK_SECONDS = 0.5  # is_cancelled() re-reads the status at most this often
PROGRESS_SECONDS = 1.0  # per-record results are committed at least this often


class _Stop(Exception):
    """End the run now with this status and message."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def execute(*, run_id: int, agent_name: str) -> OperationRun | None:
    """Claim the run and execute it; None if another delivery already claimed it."""
    if not services.run_claim(run_id=run_id, agent_name=agent_name):
        logger.info("Run %s was already claimed or ended; nothing to do.", run_id)
        return None
    run = OperationRun.objects.select_related(
        "project",
        "operation__source__connection",
        "operation__target__connection",
        "operation__transformation",
        "operation__on_success",
        "operation__on_fail",
    ).get(pk=run_id)
    ledger = RunLedger(run)
    with Heartbeat(ledger.beat, run.pk):
        if _RunLoop(run, agent_name, ledger).execute():
            run.refresh_from_db()
            services.run_actions(run=run)
    run.refresh_from_db()
    return run


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in str(version).split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def version_satisfies(have: str, need: str) -> bool:
    """Same major version, and at least the needed one."""
    h, n = _version_tuple(have), _version_tuple(need)
    return h[:1] == n[:1] and h >= n


class _RunLoop:
    def __init__(self, run: OperationRun, agent_name: str, ledger: RunLedger) -> None:
        self.run = run
        self.operation = run.operation
        self.agent_name = agent_name
        self.attempt = run.attempts
        self.ledger = ledger
        self.deadline: datetime = run.started_at + timedelta(seconds=self.operation.timeout_seconds)
        self._last_check = 0.0
        self._cancelled = False
        self._lost = False  # found out inside a target's call (on_result, the journal)
        self._new_states: list[tuple[Activity, dict[str, Any]]] = []

    # ------------------------------------------------------------------ stop conditions
    def is_cancelled(self) -> bool:
        """Handed to connectors: true once a cancel is requested, the time-out passed or the
        run is no longer ours. Re-reads the status at most every half second."""
        if self._cancelled or self._lost:
            return True
        now = time.monotonic()
        if now - self._last_check < CANCEL_CHECK_SECONDS:
            return False
        self._last_check = now
        self.ledger.flush_logs_if_due()
        status = self.ledger.status()
        self._cancelled = status != RunStatus.RUNNING or self._past_deadline()
        return self._cancelled

    def _past_deadline(self) -> bool:
        return timezone.now() > self.deadline

    def check_stop(self) -> None:
        status = self.ledger.status()
        if status is None:
            raise Lost()
        if status == RunStatus.CANCEL_REQUESTED:
            raise _Stop(RunStatus.CANCELED, self._summary("Canceled at the user's request"))
        if self._past_deadline():
            raise _Stop(
                RunStatus.ERROR,
                self._summary(
                    f"Timed out: the operation time-out of "
                    f"{_duration_text(self.operation.timeout_seconds)} was reached"
                ),
            )

    # --------------------------------------------------------------------------- the run
    def execute(self) -> bool:
        """Run to a final status; True if this worker stored it (actions may follow)."""
        try:
            status, message = self._run()
        except Lost:
            logger.warning(
                "Run %s is no longer owned by %s; stopping.", self.run.pk, self.agent_name
            )
            return False
        except _Stop as stop:
            status, message = stop.status, stop.message
        except (OperationalError, InterfaceError):
            # The database went away under us: nothing can be recorded now. The run stops
            # beating, and the agent-lost policy (re-queue or Error) takes over; its batch in
            # flight is resumed or reported then.
            logger.exception("Run %s lost its database; left to the agent-lost policy", self.run.pk)
            return False
        except NeedsReconnect as exc:
            status = RunStatus.ERROR
            message = self._summary(f"The connection needs to be reconnected: {exc.message}")
        except ConnectorError as exc:
            status, message = RunStatus.ERROR, self._summary(_connector_error_text(exc))
        except MissingVariable as exc:  # in a connection field, found when first used
            status, message = RunStatus.ERROR, self._summary(str(exc))
        except Exception as exc:  # a bug: end the run visibly instead of leaving it Running
            logger.exception("Run %s failed", self.run.pk)
            status = RunStatus.ERROR
            message = self._summary(f"Internal error: {type(exc).__name__}: {exc}")
        try:
            self.ledger.finish(
                status,
                message,
                new_states=self._new_states,
                advance_state=status in (RunStatus.SUCCESS, RunStatus.WARNING)
                and self.run.input_records is None,
            )
        except Lost:
            logger.warning("Run %s was taken over before it could finish.", self.run.pk)
            return False
        return True

    def _run(self) -> tuple[str, str]:
        run, operation, ledger = self.run, self.operation, self.ledger
        source, target = operation.source, operation.target
        if source is None or target is None:
            raise _Stop(RunStatus.ERROR, "The operation has no source or no target activity.")
        again = f" (attempt {self.attempt})" if self.attempt > 1 else ""
        ledger.log(LogLevel.INFO, f"Started on agent {self.agent_name}{again}.")
        self._check_versions()
        try:  # project variables ([name]) in activity fields; connections resolve their own
            source.config = resolve(run.project, source.config)
            target.config = resolve(run.project, target.config)
        except MissingVariable as exc:
            raise _Stop(RunStatus.ERROR, str(exc)) from None
        ledger.secrets["variables"] = secret_values(run.project)
        self.source_type = self._activity_type(source)
        self.target_type = self._activity_type(target)
        self.mapping = compile_mapping(
            operation.transformation.mapping if operation.transformation else None
        )
        source_context = self._context(source)
        self.target_context = self._context(target)
        size = steps.batch_size(self.target_type, target.config)
        rules = len(operation.transformation.mapping or []) if operation.transformation else 0
        ledger.log(
            LogLevel.INFO,
            f"Source “{source.name}” ({self.source_type.name}) → "
            + (f"transformation with {rules} rules" if rules else "no transformation")
            + f" → target “{target.name}” ({self.target_type.name}), batches of {size}.",
        )

        if run.in_flight_records:
            self._resume_batch()
        records = self._records(source_context, source.config, size)
        if ledger.read:
            ledger.log(LogLevel.INFO, f"Resuming after the first {ledger.read} records.")
        for start, chunk in steps.skip_first(records, ledger.read):
            self.check_stop()
            self._batch(chunk, start)
        self.check_stop()  # a cancel that made the source stop early ends as Canceled
        self._new_states = [
            (source, source_context.new_state),
            (target, self.target_context.new_state),
        ]
        if ledger.failed and not ledger.written and ledger.failed == ledger.read:
            return RunStatus.ERROR, self._summary(f"All {ledger.failed} records failed")
        if ledger.failed:
            return RunStatus.WARNING, self._summary("Finished with failed records")
        return RunStatus.SUCCESS, self._summary("Finished")

    def _records(self, context: RunContext, config, size: int) -> Iterator[list[dict]]:
        run = self.run
        if run.input_records is not None:
            count = len(run.input_records)
            self.ledger.log(
                LogLevel.INFO,
                f"Re-running {count} failed records."
                if run.trigger == RunTrigger.RERUN
                else f"Running on the {count} records given with the run.",
            )
            return steps.rechunk([run.input_records], size)
        if run.total_expected is None:
            # Stored with the first batch: one commit less.
            self.ledger.pending_total = self._estimate(context, config)
        return steps.rechunk(self.source_type.read(context, config), size)

    def _resume_batch(self) -> None:
        run, ledger = self.run, self.ledger
        chunk = [item.get("record") for item in run.in_flight_records or []]
        done = set(run.in_flight_done or [])
        start = ledger.read
        ledger.log(
            LogLevel.WARNING,
            f"Resuming the batch a lost agent left in flight (records {start + 1} to "
            f"{start + len(chunk)}): {len(done)} already have a result, "
            f"{len(chunk) - len(done)} are handed to the target to finish.",
        )
        self.check_stop()
        self._batch(chunk, start, resuming=True, done=done, journal=run.in_flight_journal)

    def _batch(
        self,
        chunk: list[dict],
        start: int,
        *,
        resuming: bool = False,
        done: set[int] | None = None,
        journal: dict[str, Any] | None = None,
    ) -> None:
        ledger, target_type = self.ledger, self.target_type

        def key_of(record: Any) -> str:
            return steps.record_key(self.source_type, record)

        tally = steps.Tally(done=set(done or ()))
        mapped = steps.map_chunk(chunk, self.mapping, key_of, skip=tally.done)
        tally.add_failures(mapped.failures)
        if resuming:
            ledger.store_progress(tally)
        else:
            ledger.begin_batch(chunk, [key_of(record) for record in chunk], tally)
        context = self.target_context
        context.journal = DbJournal(ledger, journal)
        context.resuming = resuming
        context.on_result = self._on_result(mapped.items, tally)
        config = self.operation.target.config
        try:
            written = steps.write_batch(
                lambda batch: target_type.write(context, config, batch), mapped.items
            )
        finally:
            context.on_result = None
        if self._lost or isinstance(written.fatal, Lost):  # found out by on_result or put()
            raise Lost()
        if written.warning:
            ledger.log(written.warning_level, written.warning)
        tally.add_all(mapped.items, written.results)
        ledger.log(
            LogLevel.INFO,
            f"Records {start + 1} to {start + len(chunk)}: "
            f"{tally.ok} written, {tally.failed} failed"
            + (" (the rest had a result before the agent was lost)." if resuming else "."),
        )
        ledger.commit_batch(len(chunk), tally)
        if written.fatal is not None:
            raise written.fatal

    def _on_result(
        self, items: Sequence[steps.Item], tally: steps.Tally
    ) -> Callable[[int, RecordResult], None]:
        """A target's per-record progress: counted at once, committed about every second.
        Never raises into the target: a lost run shows through ``is_cancelled``."""
        last = time.monotonic()

        def on_result(index: int, result: RecordResult) -> None:
            nonlocal last
            if self._lost or not 0 <= index < len(items):
                return
            tally.add(items[index], result)
            if time.monotonic() - last < PROGRESS_SECONDS:
                return
            last = time.monotonic()
            try:
                self.ledger.store_progress(tally)
            except Lost:
                self._lost = True
            except (OperationalError, InterfaceError):
                # Kept in the tally; stored with the batch, or resumed by the next attempt.
                logger.warning("Run %s: progress not stored", self.run.pk, exc_info=True)

        return on_result

    # ---------------------------------------------------------------------------- set-up
    def _summary(self, lead: str) -> str:
        ledger = self.ledger
        return (
            f"{lead}: {ledger.read} source records, {ledger.written} written, "
            f"{ledger.failed} failed."
        )

    def _check_versions(self) -> None:
        for key, need in (self.run.required_connectors or {}).items():
            try:
                connector = get_connector(key)
            except KeyError:
                raise _Stop(
                    RunStatus.ERROR,
                    f"Agent {self.agent_name} does not carry the connector “{key}” "
                    f"(this project needs version {need}).",
                ) from None
            if not version_satisfies(connector.version, need):
                raise _Stop(
                    RunStatus.ERROR,
                    f"Agent {self.agent_name} carries {connector.name} connector version "
                    f"{connector.version}, but this project needs {need}; update the agent.",
                )

    def _activity_type(self, activity: Activity) -> ActivityType:
        try:
            return get_connector(activity.connection.connector_key).activity_type(
                activity.activity_type
            )
        except KeyError as exc:
            raise _Stop(RunStatus.ERROR, str(exc.args[0]) if exc.args else str(exc)) from None

    def _context(self, activity: Activity) -> RunContext:
        connection = activity.connection
        extras = {**connection_extras(connection), "run_id": self.run.pk}
        db_connection = DbConnection(connection, extras=extras)
        try:  # known secret values, so they are masked wherever they show up in text
            self.ledger.secrets[str(connection.pk)] = db_connection.secrets()
        except Exception:  # unreadable secrets surface when the connector uses them
            logger.warning("Could not read secrets of connection %s", connection.pk)
        return RunContext(
            connection=db_connection,
            log=self.ledger.log,
            debug=self.run.debug,
            is_cancelled=self.is_cancelled,
            on_http=self.ledger.on_http,
            state=dict(activity.state or {}),
            run_id=str(self.run.pk),
            started_at=self.run.started_at.isoformat(),
        )

    def _estimate(self, context: RunContext, config) -> int | None:
        try:
            return self.source_type.estimate_total(context, config)
        except ConnectorError as exc:
            if exc.permanent:
                raise
            self.ledger.log(LogLevel.WARNING, f"Could not estimate the number of records: {exc}")
            return None


def _connector_error_text(exc: ConnectorError) -> str:
    detail = f" ({exc.key})" if exc.key else ""
    return f"{exc.message}{detail}"


def _duration_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return f"{seconds} second" + ("s" if seconds != 1 else "")
