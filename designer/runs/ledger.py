"""The run ledger: every database write of an executing run, each one ownership-checked.

Ownership (agent, attempt and an active status in the WHERE clause) is checked in every
write, so a worker whose run was declared lost and re-queued can never overwrite what the new
owner does: a write that finds no row raises ``Lost``.

What it stores: log lines (buffered, flushed at least every second so the run page follows
the run), debug samples, the heartbeat, the batch in flight with its journal and per-record
progress, batch results, and the final status.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connectors.base import HttpExchange
from connectors.redaction import redact_for_log
from designer.design.models import Activity, Step
from designer.runs.models import (
    DebugSample,
    LogLevel,
    OperationRun,
    RecordFailure,
    RunLogLine,
    RunResponse,
    RunStatus,
)
from designer.runs.signals import send_run_finished_on_commit
from designer.runs.steps import Failure, Tally

logger = logging.getLogger(__name__)

MAX_DEBUG_SAMPLES = 500  # per run
LOG_FLUSH_SECONDS = 1.0  # buffered log lines reach the database at least this often
LOG_FLUSH_LINES = 50
_OWNED = (RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED)
MAX_SAMPLE_TEXT = 20_000  # characters kept of one body in a debug sample


def truncate_json(value: Any, limit: int = MAX_SAMPLE_TEXT) -> Any:
    """Bodies are samples: a long one is cut to ``limit`` characters of its JSON text."""
    text = json.dumps(value, default=str)
    if len(text) <= limit:
        return value
    return {"truncated": True, "size": len(text), "start": text[:limit]}


class Lost(Exception):
    """This worker no longer owns the run (declared lost, re-queued or ended elsewhere)."""


class RunLedger:
    def __init__(self, run: OperationRun, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.run_id = run.pk
        self.agent_id = run.agent_id
        self.attempt = run.attempts
        self.debug = run.debug
        self.secrets: dict[str, Any] = {}  # known secret values: masked in everything stored
        self.read = run.source_records
        self.written = run.target_records
        self.failed = run.failed_records
        self.http_requests = 0  # not stored yet
        self.debug_samples = 0
        self.pending_total: int | None = None  # the source's estimate, stored with a write
        # Multi-step chains: counts per step, and where the batch in flight stands (see
        # OperationRun.in_flight_stage); both stored with every write of the run row.
        self.step_counts: dict[str, dict[str, Any]] = dict(run.step_counts or {})
        self.stage: dict[str, Any] | None = run.in_flight_stage
        self._logs: list[RunLogLine] = []
        self._flushed_at = 0.0
        # A run that answers with its records (a synchronous trigger) has its RunResponse
        # row from the start; it grows with each committed batch.
        self.response: RunResponse | None = RunResponse.objects.filter(run_id=run.pk).first()
        self._response_changed = False
        self._records_changed = False

    # ------------------------------------------------------------------------------ reads
    def owned(self):
        return OperationRun.objects.filter(
            pk=self.run_id, agent_id=self.agent_id, attempts=self.attempt, status__in=_OWNED
        )

    def status(self) -> str | None:
        """The run's status while this worker owns it; None once it doesn't."""
        return self.owned().values_list("status", flat=True).first()

    # ------------------------------------------------------------------------ log, samples
    def redact(self, text: Any) -> Any:
        return redact_for_log(text, self.secrets)

    def log(self, level: str, message: str) -> None:
        level = level if level in LogLevel.values else LogLevel.INFO
        text = self.redact(str(message))[:10_000]
        # Each line keeps its own time, so lines from the web (a cancel) sort among them.
        self._logs.append(RunLogLine(run_id=self.run_id, level=level, message=text))
        self.flush_logs_if_due()

    def flush_logs_if_due(self) -> None:
        """A line after a quiet second goes out at once; a burst goes out once a second."""
        due = self._clock() - self._flushed_at >= LOG_FLUSH_SECONDS
        if self._logs and (due or len(self._logs) >= LOG_FLUSH_LINES):
            self.flush_logs()

    def flush_logs(self) -> None:
        if self._logs:
            lines, self._logs = self._logs, []
            RunLogLine.objects.bulk_create(lines)
            self._flushed_at = self._clock()

    def on_http(self, exchange: HttpExchange) -> None:
        self.http_requests += 1
        trouble = exchange.error or (exchange.status or 0) >= 400 or exchange.attempt > 1
        if trouble:
            self.log(
                LogLevel.WARNING,
                f"{exchange.method} {self.redact(exchange.url)} -> "
                f"{exchange.status or exchange.error} "
                f"(attempt {exchange.attempt}, {exchange.duration_ms:.0f} ms)",
            )
        if self.debug and self.debug_samples < MAX_DEBUG_SAMPLES:
            self.debug_samples += 1
            DebugSample.objects.create(
                run_id=self.run_id,
                method=exchange.method[:10],
                url=self.redact(exchange.url),
                status=exchange.status,
                duration_ms=exchange.duration_ms,
                attempt=exchange.attempt,
                request_body=truncate_json(self.redact(exchange.request_body)),
                response_body=truncate_json(self.redact(exchange.response_body)),
                error=self.redact(exchange.error or ""),
            )

    # -------------------------------------------------------------------------- heartbeat
    def beat(self) -> bool:
        """Refresh ``heartbeat_at``; False once the run is no longer ours."""
        return bool(self.owned().update(heartbeat_at=timezone.now()))

    # ----------------------------------------------------------------- the batch in flight
    def begin_batch(self, chunk: Sequence[Any], keys: Sequence[str], tally: Tally) -> None:
        """Keep the chunk's source records as the batch in flight, with an empty journal, and
        store the records the mapping refused (counted at once)."""
        in_flight = [
            {"key": key, "record": record} for key, record in zip(keys, chunk, strict=True)
        ]
        self.stage = None
        self._store(tally, in_flight_records=in_flight, in_flight_journal={}, **self._total())

    def store_stage(self, tally: Tally, stage: dict[str, Any]) -> None:
        """Commit where the batch stands before a target or invoke step (the work left and
        the counts so far), with the results counted until now."""
        self.stage = stage
        self._store(tally)

    def put_journal(self, values: dict[str, Any]) -> None:
        """Commit the batch's journal now, in its own short transaction."""
        with transaction.atomic():
            if not self.owned().update(in_flight_journal=values):
                raise Lost()

    def store_progress(self, tally: Tally) -> None:
        """Commit the per-record results counted since the last store (counters, failure
        rows, the done offsets), with the log lines waiting."""
        if tally.pending or self._logs or self.http_requests:
            self._store(tally)

    def add_responses(self, outputs: Iterable[tuple[int, Any]]) -> None:
        """Keep what the chain's last step gave for these records of the batch (offset,
        record), redacted and in source order, if the run answers with them: within
        RUN_RESPONSE_MAX_RECORDS and RUN_RESPONSE_MAX_BYTES, then only counted and the
        response marked truncated. Stored with the batch (``commit_batch``)."""
        response = self.response
        if response is None:
            return
        for _offset, record in sorted(outputs, key=lambda output: output[0]):
            response.count += 1
            self._response_changed = True
            if response.truncated:
                continue
            text = json.dumps(self.redact(record), default=str)
            full = len(response.records) >= settings.RUN_RESPONSE_MAX_RECORDS
            if full or response.size_bytes + len(text) + 1 > settings.RUN_RESPONSE_MAX_BYTES:
                response.truncated = True
                continue
            response.records.append(json.loads(text))
            response.size_bytes += len(text) + 1  # and its comma
            self._records_changed = True

    def commit_batch(self, read: int, tally: Tally) -> None:
        """The batch is done: its remaining results, the read position, and no batch in
        flight any more (journal and progress cleared)."""
        self._store(
            tally,
            with_response=True,
            source_records=F("source_records") + read,
            in_flight_records=None,
            in_flight_done=None,
            in_flight_journal=None,
            **({"output_file": tally.output[:500]} if tally.output else {}),
            in_flight_stage=None,
        )
        self.read += read
        self.stage = None

    def _store(self, tally: Tally, *, with_response: bool = False, **values: Any) -> None:
        ok, failures = tally.take()
        try:
            with transaction.atomic():
                updated = self.owned().update(
                    target_records=F("target_records") + ok,
                    failed_records=F("failed_records") + len(failures),
                    http_requests=F("http_requests") + self.http_requests,
                    **{
                        "in_flight_done": sorted(tally.done),
                        "in_flight_stage": self.stage,
                        "step_counts": self.step_counts,
                        **values,
                    },
                )
                if not updated:
                    raise Lost()
                self._create_failures(failures)
                if with_response:
                    self._save_response()
                self.flush_logs()
        except Lost:
            raise
        except Exception:
            tally.restore(ok, failures)  # counted again by the next store
            raise
        self.http_requests = 0
        if with_response:  # committed
            self._response_changed = self._records_changed = False
        self.written += ok
        self.failed += len(failures)

    def _save_response(self) -> None:
        response = self.response
        if response is None or not self._response_changed:
            return
        # Once the bound is reached only the count moves: the records aren't written again.
        records = (
            {"records": response.records, "size_bytes": response.size_bytes}
            if self._records_changed
            else {}
        )
        RunResponse.objects.filter(pk=response.pk).update(
            count=response.count, truncated=response.truncated, **records
        )

    def _create_failures(self, failures: Sequence[Failure]) -> None:
        start = self.read  # the batch's first record (``read`` moves when it is committed)
        step_ids = {f.step_id for f in failures if f.step_id is not None}
        if step_ids:  # a step deleted while the run went on keeps only its name
            step_ids = set(Step.objects.filter(pk__in=step_ids).values_list("pk", flat=True))
        RecordFailure.objects.bulk_create(
            RecordFailure(
                run_id=self.run_id,
                index=start + f.offset,
                key=str(f.key)[:300],
                error_key=str(f.error_key)[:200],
                error_message=self.redact(str(f.error_message)),
                record=f.record,
                step_id=f.step_id if f.step_id in step_ids else None,
                step_name=str(f.step_name)[:300],
                step_input=f.step_input,
            )
            for f in failures
        )

    def _total(self) -> dict[str, int]:
        """The source's estimate, once, for the next write of the run row."""
        total, self.pending_total = self.pending_total, None
        return {"total_expected": total} if total is not None else {}

    # ---------------------------------------------------------------------------- the end
    def finish(
        self,
        status: str,
        message: str,
        *,
        new_states: Iterable[tuple[Activity, dict[str, Any]]] = (),
        advance_state: bool = False,
    ) -> None:
        level = {
            RunStatus.SUCCESS: LogLevel.INFO,
            RunStatus.WARNING: LogLevel.WARNING,
            RunStatus.CANCELED: LogLevel.WARNING,
        }.get(status, LogLevel.ERROR)
        message = self.redact(message)
        self.log(level, message)
        with transaction.atomic():
            updated = self.owned().update(
                status=status,
                ended_at=timezone.now(),
                message=message[:5000],
                in_flight_records=None,
                in_flight_done=None,
                in_flight_journal=None,
                in_flight_stage=None,
                step_counts=self.step_counts,
                http_requests=F("http_requests") + self.http_requests,
                **self._total(),
            )
            if not updated:
                raise Lost()
            self.flush_logs()
            if advance_state:
                # Watermarks advance only after a successful run (failed records are kept
                # as rows, downloadable and re-runnable).
                for activity, new_state in new_states:
                    if new_state:
                        Activity.objects.filter(pk=activity.pk).update(
                            state={**(activity.state or {}), **new_state}
                        )
        send_run_finished_on_commit(self.run_id)


class DbJournal:
    """connectors.base.RunJournal kept on the run row: ``put`` returns once committed."""

    def __init__(self, ledger: RunLedger, values: dict[str, Any] | None = None) -> None:
        self._ledger = ledger
        self._values: dict[str, Any] = dict(values or {})

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def put(self, key: str, value: Any) -> None:
        values = {**self._values, key: value}
        self._ledger.put_journal(values)
        self._values = values


class PrefixedJournal:
    """A second (third...) target's part of the batch's journal: its own keys, so two
    targets of one chain never read each other's notes."""

    def __init__(self, journal: DbJournal, prefix: str) -> None:
        self._journal = journal
        self._prefix = prefix

    def get(self, key: str, default: Any = None) -> Any:
        return self._journal.get(self._prefix + key, default)

    def put(self, key: str, value: Any) -> None:
        self._journal.put(self._prefix + key, value)
