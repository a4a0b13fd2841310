"""The run engine: source batches -> transformation -> target, with counters, per-record
failures, cancel, time-out and debug samples.

It knows connectors only through ``connectors.base``. Ownership of a run is checked in every
write (agent, attempt and an active status in the WHERE clause), so a worker whose run was
declared lost and re-queued can never overwrite what the new owner does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import F
from django.utils import timezone

from connectors.base import (
    ActivityType,
    ConnectorError,
    HttpExchange,
    NeedsReconnect,
    RecordResult,
    RunContext,
)
from connectors.registry import get_connector
from designer.design.connection_context import DbConnection
from designer.design.integrations import connection_extras
from designer.design.models import Activity
from designer.projects.variables import MissingVariable, resolve, secret_values
from designer.runs import services
from designer.runs.models import (
    DebugSample,
    LogLevel,
    OperationRun,
    RecordFailure,
    RunLogLine,
    RunStatus,
)
from designer.runs.redaction import redact_for_log, truncate_json
from designer.runs.signals import send_run_finished_on_commit
from designer.transformations.mapping import MappingError, compile_mapping

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
MAX_DEBUG_SAMPLES = 500  # per run
CANCEL_CHECK_SECONDS = 0.5  # is_cancelled() re-reads the status at most this often
_OWNED = (RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED)


class _Stop(Exception):
    """End the run now with this status and message."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Lost(Exception):
    """This worker no longer owns the run (declared lost, re-queued or ended elsewhere)."""


@dataclass
class _Failure:
    index: int
    key: str
    error_key: str
    error_message: str
    record: Any


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
    _Execution(run, agent_name).execute()
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


def _rechunk(batches: Iterable[list[dict]], size: int) -> Iterator[list[dict]]:
    pending: list[dict] = []
    for batch in batches:
        pending.extend(batch)
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


class _Execution:
    def __init__(self, run: OperationRun, agent_name: str) -> None:
        self.run = run
        self.operation = run.operation
        self.agent_name = agent_name
        self.agent_id = run.agent_id
        self.attempt = run.attempts
        self.deadline: datetime = run.started_at + timedelta(seconds=self.operation.timeout_seconds)
        self.pending_logs: list[RunLogLine] = []
        self.http_requests = 0
        self.debug_samples = 0
        self.secrets: dict[str, Any] = {}
        self.failed = run.failed_records
        self.written = run.target_records
        self.read = run.source_records
        self._last_check = 0.0
        self._cancelled = False
        self.pending_total: int | None = None

    # ---------------------------------------------------------------- ownership-checked writes
    def _owned(self):
        return OperationRun.objects.filter(
            pk=self.run.pk, agent_id=self.agent_id, attempts=self.attempt, status__in=_OWNED
        )

    def log(self, level: str, message: str) -> None:
        level = level if level in LogLevel.values else LogLevel.INFO
        text = redact_for_log(str(message), self.secrets)
        self.pending_logs.append(RunLogLine(run_id=self.run.pk, level=level, message=text[:10_000]))
        if len(self.pending_logs) >= 50:
            self._flush_logs()

    def _flush_logs(self) -> None:
        if self.pending_logs:
            lines, self.pending_logs = self.pending_logs, []
            RunLogLine.objects.bulk_create(lines)

    def is_cancelled(self) -> bool:
        """Handed to connectors: true once a cancel is requested, the time-out passed or the
        run is no longer ours. Re-reads the status at most every half second."""
        if self._cancelled:
            return True
        now = time.monotonic()
        if now - self._last_check < CANCEL_CHECK_SECONDS:
            return False
        self._last_check = now
        status = self._owned().values_list("status", flat=True).first()
        self._cancelled = status != RunStatus.RUNNING or timezone.now() > self.deadline
        return self._cancelled

    def check_stop(self) -> None:
        status = self._owned().values_list("status", flat=True).first()
        if status is None:
            raise _Lost()
        if status == RunStatus.CANCEL_REQUESTED:
            raise _Stop(RunStatus.CANCELED, self._summary("Canceled at the user's request"))
        if timezone.now() > self.deadline:
            raise _Stop(
                RunStatus.ERROR,
                self._summary(
                    f"Timed out: the operation time-out of "
                    f"{_duration_text(self.operation.timeout_seconds)} was reached"
                ),
            )

    def on_http(self, exchange: HttpExchange) -> None:
        self.http_requests += 1
        trouble = exchange.error or (exchange.status or 0) >= 400 or exchange.attempt > 1
        if trouble:
            url = redact_for_log(exchange.url, self.secrets)
            self.log(
                LogLevel.WARNING,
                f"{exchange.method} {url} -> {exchange.status or exchange.error} "
                f"(attempt {exchange.attempt}, {exchange.duration_ms:.0f} ms)",
            )
        if self.run.debug and self.debug_samples < MAX_DEBUG_SAMPLES:
            self.debug_samples += 1
            DebugSample.objects.create(
                run_id=self.run.pk,
                method=exchange.method[:10],
                url=redact_for_log(exchange.url, self.secrets),
                status=exchange.status,
                duration_ms=exchange.duration_ms,
                attempt=exchange.attempt,
                request_body=truncate_json(redact_for_log(exchange.request_body, self.secrets)),
                response_body=truncate_json(redact_for_log(exchange.response_body, self.secrets)),
                error=redact_for_log(exchange.error or "", self.secrets),
            )

    # ---------------------------------------------------------------------------- the run
    def _beat(self, stop: threading.Event) -> None:
        """Keep ``heartbeat_at`` fresh while this process executes the run (own thread, so
        a long batch doesn't look like a lost agent)."""
        try:
            while not stop.wait(settings.RUNS_HEARTBEAT_SECONDS):
                try:
                    self._owned().update(heartbeat_at=timezone.now())
                except DatabaseError:  # a blip: reconnect on the next beat
                    logger.warning("Run %s heartbeat failed", self.run.pk, exc_info=True)
                    connections.close_all()
        finally:
            connections.close_all()  # this thread's own connection

    def execute(self) -> None:
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(stop,), daemon=True)
        beat.start()
        try:
            self._execute()
        finally:
            stop.set()
            beat.join(timeout=5)

    def _execute(self) -> None:
        try:
            status, message = self._run()
        except _Lost:
            logger.warning(
                "Run %s is no longer owned by %s; stopping.", self.run.pk, self.agent_name
            )
            return
        except _Stop as stop:
            status, message = stop.status, stop.message
        except (OperationalError, InterfaceError):
            # The database went away under us: nothing can be recorded now. The run stops
            # beating, and the agent-lost policy (re-queue or Error) takes over; its batch in
            # flight is reported then.
            logger.exception("Run %s lost its database; left to the agent-lost policy", self.run.pk)
            return
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
            self._finish(status, redact_for_log(message, self.secrets))
        except _Lost:
            logger.warning("Run %s was taken over before it could finish.", self.run.pk)

    def _run(self) -> tuple[str, str]:
        run, operation = self.run, self.operation
        source, target = operation.source, operation.target
        if source is None or target is None:
            raise _Stop(RunStatus.ERROR, "The operation has no source or no target activity.")
        again = f" (attempt {self.attempt})" if self.attempt > 1 else ""
        self.log(LogLevel.INFO, f"Started on agent {self.agent_name}{again}.")
        self._check_versions()
        try:  # project variables ([name]) in activity fields; connections resolve their own
            source.config = resolve(run.project, source.config)
            target.config = resolve(run.project, target.config)
        except MissingVariable as exc:
            raise _Stop(RunStatus.ERROR, str(exc)) from None
        self.secrets["variables"] = secret_values(run.project)
        source_type = self._activity_type(source)
        target_type = self._activity_type(target)
        mapping = compile_mapping(
            operation.transformation.mapping if operation.transformation else None
        )
        source_context = self._context(source)
        target_context = self._context(target)
        size = self._batch_size(target_type, target.config)
        rules = len(operation.transformation.mapping or []) if operation.transformation else 0
        self.log(
            LogLevel.INFO,
            f"Source “{source.name}” ({source_type.name}) → "
            + (f"transformation with {rules} rules" if rules else "no transformation")
            + f" → target “{target.name}” ({target_type.name}), batches of {size}.",
        )

        if run.input_records is not None:
            records = _rechunk([run.input_records], size)
            self.log(LogLevel.INFO, f"Re-running {len(run.input_records)} failed records.")
        else:
            if run.total_expected is None:
                total = self._estimate(source_type, source_context, source.config)
                self.pending_total = total  # stored with the first batch: one commit less
            records = _rechunk(source_type.read(source_context, source.config), size)
        resume_at = self.read
        if resume_at:
            self.log(LogLevel.INFO, f"Resuming after the first {resume_at} records.")
        position = 0
        for chunk in records:
            if position + len(chunk) <= resume_at:
                position += len(chunk)
                continue
            if position < resume_at:
                chunk = chunk[resume_at - position :]
                position = resume_at
            self.check_stop()
            self._process(chunk, position, mapping, source_type, target_type, target_context)
            position += len(chunk)
        self.check_stop()  # a cancel that made the source stop early ends as Canceled
        self._new_states = (source, source_context), (target, target_context)
        if self.failed:
            return RunStatus.WARNING, self._summary("Finished with failed records")
        return RunStatus.SUCCESS, self._summary("Finished")

    def _summary(self, lead: str) -> str:
        return f"{lead}: {self.read} source records, {self.written} written, {self.failed} failed."

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
            self.secrets[str(connection.pk)] = db_connection.secrets()
        except Exception:  # unreadable secrets surface when the connector uses them
            logger.warning("Could not read secrets of connection %s", connection.pk)
        return RunContext(
            connection=db_connection,
            log=self.log,
            debug=self.run.debug,
            is_cancelled=self.is_cancelled,
            on_http=self.on_http,
            state=dict(activity.state or {}),
            run_id=str(self.run.pk),
            started_at=self.run.started_at.isoformat(),
        )

    @staticmethod
    def _batch_size(activity_type: ActivityType, config: Mapping[str, Any]) -> int:
        hint = getattr(activity_type, "batch_size", None)
        size = hint(config) if callable(hint) else None
        size = size or getattr(activity_type, "preferred_batch_size", None) or DEFAULT_BATCH_SIZE
        return max(1, int(size))

    def _estimate(self, source_type: ActivityType, context: RunContext, config) -> int | None:
        try:
            return source_type.estimate_total(context, config)
        except ConnectorError as exc:
            if exc.permanent:
                raise
            self.log(LogLevel.WARNING, f"Could not estimate the number of records: {exc}")
            return None

    def _process(
        self,
        chunk: list[dict],
        start: int,
        mapping,
        source_type: ActivityType,
        target_type: ActivityType,
        target_context: RunContext,
    ) -> None:
        failures: list[_Failure] = []
        to_write: list[tuple[int, dict, str, dict]] = []  # index, source record, key, mapped
        for offset, record in enumerate(chunk):
            index, key = start + offset, _key(source_type, record)
            try:
                mapped = mapping.apply(record)
            except MappingError as exc:
                failures.append(_Failure(index, key, "mapping_error", str(exc), record))
                continue
            to_write.append((index, record, key, mapped))
        self._mark_in_flight(chunk, source_type)
        results: list[RecordResult] = []
        if to_write:
            batch = [mapped for _, _, _, mapped in to_write]
            try:
                results = list(
                    target_type.write(target_context, self.operation.target.config, batch)
                )
            except ConnectorError as exc:
                # Records the target wrote before it stopped keep their results (exc.done).
                done = list(exc.done)[: len(to_write)]
                if exc.permanent:
                    self._fail_all(
                        to_write, failures, exc.key or "error", exc.message, len(chunk), done
                    )
                    raise
                self.log(
                    LogLevel.WARNING,
                    f"Batch of {len(batch)} records failed after retries: {exc.message}",
                )
                results = done + [
                    RecordResult.failed(
                        key=key, error_key=exc.key or "transient_error", error_message=exc.message
                    )
                    for _, _, key, _ in to_write[len(done) :]
                ]
            except Exception as exc:
                text = f"Internal error in the target: {type(exc).__name__}: {exc}"
                self._fail_all(to_write, failures, "internal_error", text, len(chunk))
                raise
            if len(results) != len(to_write):
                self.log(
                    LogLevel.ERROR,
                    f"The target returned {len(results)} results for {len(to_write)} records "
                    "(a connector bug); records without a result are reported as failed.",
                )
                results = results[: len(to_write)]
                results += [
                    RecordResult.failed(
                        key=key,
                        error_key="missing_result",
                        error_message="The target returned no result for this record.",
                    )
                    for _, _, key, _ in to_write[len(results) :]
                ]
        ok = 0
        for (index, record, key, mapped), result in zip(to_write, results, strict=True):
            if result.ok:
                ok += 1
            else:
                failures.append(
                    _Failure(
                        index,
                        result.key or key or _key(target_type, mapped),
                        result.error_key,
                        result.error_message,
                        record,
                    )
                )
        self.log(
            LogLevel.INFO,
            f"Records {start + 1} to {start + len(chunk)}: {ok} written, {len(failures)} failed.",
        )
        self._commit_batch(read=len(chunk), ok=ok, failures=failures)

    def _fail_all(self, to_write, failures, error_key, message, read, done=()) -> None:
        """Commit a batch the target gave up on: ``done`` holds the results of its first
        records (written before the error); the rest fail with the error."""
        ok = 0
        for (index, record, key, _), result in zip(to_write, done, strict=False):
            if result.ok:
                ok += 1
            else:
                failures.append(
                    _Failure(
                        index, result.key or key, result.error_key, result.error_message, record
                    )
                )
        failures.extend(
            _Failure(index, key, error_key, message, record)
            for index, record, key, _ in to_write[len(done) :]
        )
        self._commit_batch(read=read, ok=ok, failures=failures)

    def _mark_in_flight(self, chunk: list[dict], source_type: ActivityType) -> None:
        in_flight = [{"key": _key(source_type, r), "record": r} for r in chunk]
        if not self._owned().update(in_flight_records=in_flight, **self._total()):
            raise _Lost()

    def _total(self) -> dict[str, int]:
        """The source's estimate, once, for the next write of the run row."""
        total, self.pending_total = self.pending_total, None
        return {"total_expected": total} if total is not None else {}

    def _commit_batch(self, *, read: int, ok: int, failures: list[_Failure]) -> None:
        with transaction.atomic():
            updated = self._owned().update(
                source_records=F("source_records") + read,
                target_records=F("target_records") + ok,
                failed_records=F("failed_records") + len(failures),
                http_requests=F("http_requests") + self.http_requests,
                in_flight_records=None,
            )
            if not updated:
                raise _Lost()
            RecordFailure.objects.bulk_create(
                RecordFailure(
                    run_id=self.run.pk,
                    index=f.index,
                    key=str(f.key)[:300],
                    error_key=str(f.error_key)[:200],
                    error_message=redact_for_log(str(f.error_message), self.secrets),
                    record=f.record,
                )
                for f in failures
            )
            self._flush_logs()
        self.http_requests = 0
        self.read += read
        self.written += ok
        self.failed += len(failures)

    def _finish(self, status: str, message: str) -> None:
        level = {
            RunStatus.SUCCESS: LogLevel.INFO,
            RunStatus.WARNING: LogLevel.WARNING,
            RunStatus.CANCELED: LogLevel.WARNING,
        }.get(status, LogLevel.ERROR)
        self.log(level, message)
        with transaction.atomic():
            updated = self._owned().update(
                status=status,
                ended_at=timezone.now(),
                message=message[:5000],
                in_flight_records=None,
                http_requests=F("http_requests") + self.http_requests,
                **self._total(),
            )
            if not updated:
                raise _Lost()
            self._flush_logs()
            if status in (RunStatus.SUCCESS, RunStatus.WARNING) and self.run.input_records is None:
                # Watermarks advance only after a successful run (failed records are kept
                # as rows, downloadable and re-runnable).
                for activity, context in getattr(self, "_new_states", ()):
                    if context.new_state:
                        Activity.objects.filter(pk=activity.pk).update(
                            state={**(activity.state or {}), **context.new_state}
                        )
        send_run_finished_on_commit(self.run.pk)
        self.run.refresh_from_db()
        services.run_actions(run=self.run)


def _key(activity_type: ActivityType, record: Mapping[str, Any]) -> str:
    try:
        return str(activity_type.record_key(record) or "")[:300]
    except Exception:  # a key is a courtesy for the log; never fail a record over it
        return ""


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
