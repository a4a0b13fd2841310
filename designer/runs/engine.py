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

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from connectors.base import (
    ActivityType,
    ConnectorError,
    NeedsReconnect,
    RecordResult,
    RunContext,
)
from connectors.registry import get_connector
from designer.crypto import encrypt_json
from designer.design.connection_context import DbConnection
from designer.design.integrations import connection_extras
from designer.design.models import Activity, Operation, StepKind
from designer.projects.models import Variable, variable_name
from designer.projects.variables import MissingVariable, resolve, secret_values
from designer.runs import services, steps
from designer.runs.chain import ChainBatch
from designer.runs.heartbeat import Heartbeat
from designer.runs.ledger import DbJournal, Lost, PrefixedJournal, RunLedger
from designer.runs.models import LogLevel, OperationRun, RunStatus, RunTrigger
from designer.runs.plan import Node, Plan, PlanError, build_plan

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
        "project", "operation__on_success", "operation__on_fail", "operation__on_complete"
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
        self.debug = run.debug
        self.plan: Plan | None = None
        self.source_type: ActivityType | None = None
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
        run, ledger = self.run, self.ledger
        plan = self._plan()
        again = f" (attempt {self.attempt})" if self.attempt > 1 else ""
        ledger.log(LogLevel.INFO, f"Started on agent {self.agent_name}{again}.")
        self._check_versions()
        activities = [n for n in (plan.source, *plan.targets()) if n is not None]
        try:  # project variables ([name]) in activity fields; connections resolve their own
            for node in activities:
                node.activity.config = resolve(run.project, node.activity.config)
        except MissingVariable as exc:
            raise _Stop(RunStatus.ERROR, str(exc)) from None
        ledger.secrets["variables"] = secret_values(run.project)
        self.types = {node.id: self._activity_type(node.activity) for node in activities}
        self.contexts = {node.id: self._context(node.activity) for node in activities}
        self.source_type = self.types[plan.source.id] if plan.source else None
        sizes = [
            steps.batch_size(self.types[node.id], node.activity.config) for node in plan.targets()
        ]
        size = min(sizes) if sizes else steps.DEFAULT_BATCH_SIZE
        ledger.log(LogLevel.INFO, self._describe(plan, size))

        resumed = run.in_flight_records is not None
        if resumed:
            self._resume_batch()
        if ledger.read:
            ledger.log(LogLevel.INFO, f"Resuming after the first {ledger.read} records.")
        if run.input_records is None and plan.source is None:
            # An operation that starts with an invoke: one pass without records (a resumed
            # attempt finished that pass above, with the child run it had started).
            if not ledger.read and not resumed:
                self._batch([], 0)
        else:
            source_context = self.contexts[plan.source.id] if plan.source else None
            records = self._records(source_context, size)
            for start, chunk in steps.skip_first(records, ledger.read):
                self.check_stop()
                self._batch(chunk, start)
        self.check_stop()  # a cancel that made the source stop early ends as Canceled
        self._new_states = [
            (node.activity, self.contexts[node.id].new_state) for node in activities
        ]
        if ledger.failed and not ledger.written and ledger.failed == ledger.read:
            return RunStatus.ERROR, self._summary(f"All {ledger.failed} records failed")
        if ledger.failed:
            return RunStatus.WARNING, self._summary("Finished with failed records")
        return RunStatus.SUCCESS, self._summary("Finished")

    def _plan(self) -> Plan:
        try:
            plan = build_plan(self.operation)
        except PlanError as exc:
            raise _Stop(RunStatus.ERROR, str(exc)) from None
        first = plan.nodes.get(plan.entry) if plan.entry is not None else None
        starts_with_invoke = first is not None and first.kind == StepKind.INVOKE
        if plan.source is None and self.run.input_records is None and not starts_with_invoke:
            raise _Stop(RunStatus.ERROR, "The operation has no source or no target activity.")
        if not plan.targets() and not any(n.kind == StepKind.INVOKE for n in plan.nodes.values()):
            raise _Stop(RunStatus.ERROR, "The operation has no source or no target activity.")
        self.plan = plan
        return plan

    def _describe(self, plan: Plan, size: int) -> str:
        """The chain in one line: "Source “A” (Generate) → transformation with 2 rules → ..."."""
        parts = []
        for step_id in plan.order:
            node = plan.nodes[step_id]
            if node.kind in (StepKind.SOURCE, StepKind.TARGET):
                parts.append(
                    f"{node.kind.capitalize()} “{node.activity.name}” ({self.types[node.id].name})"
                )
            elif node.kind == StepKind.TRANSFORMATION:
                rules = len(node.mapping.rules) if node.mapping else 0
                parts.append(f"transformation with {rules} rules" if rules else "no transformation")
            else:
                parts.append(node.name)
        if len(plan.order) == 2 and plan.source is not None:  # source -> target, as before
            parts.insert(1, "no transformation")
        return " → ".join(parts) + f", batches of {size}."

    def _records(self, context: RunContext | None, size: int) -> Iterator[list[dict]]:
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
            self.ledger.pending_total = self._estimate(context, self.plan.source.activity.config)
        return steps.rechunk(self.source_type.read(context, self.plan.source.activity.config), size)

    def _resume_batch(self) -> None:
        run, ledger = self.run, self.ledger
        chunk = [item.get("record") for item in run.in_flight_records or []]
        done = set(run.in_flight_done or [])
        start = ledger.read
        stage = run.in_flight_stage
        where = ""
        if stage and stage.get("step") in self.plan.nodes:
            where = f" at {self.plan.nodes[stage['step']].name}"
        ledger.log(
            LogLevel.WARNING,
            f"Resuming the batch a lost agent left in flight{where} (records {start + 1} to "
            f"{start + len(chunk)}): {len(done)} already have a result, "
            f"{len(chunk) - len(done)} are handed to the target to finish.",
        )
        self.check_stop()
        self._batch(
            chunk, start, resuming=True, done=done, journal=run.in_flight_journal, stage=stage
        )

    def _batch(
        self,
        chunk: list[dict],
        start: int,
        *,
        resuming: bool = False,
        done: set[int] | None = None,
        journal: dict[str, Any] | None = None,
        stage: dict[str, Any] | None = None,
    ) -> None:
        ledger = self.ledger
        tally = steps.Tally(done=set(done or ()))
        keys = [self._key_of(record) for record in chunk]
        if resuming:
            ledger.store_progress(tally)
        else:
            ledger.begin_batch(chunk, keys, tally)
        self.journal = DbJournal(ledger, journal)
        outcome = ChainBatch(
            self,
            self.plan,
            chunk,
            keys,
            tally,
            resume_stage=stage if resuming else None,
            resume_first_target=resuming and not stage,
            from_source=self.run.input_records is None and self.plan.source is not None,
            entries=self._entries(start, len(chunk)),
            progress_seconds=PROGRESS_SECONDS,
        ).run()
        if self._lost:  # found out by on_result or the journal's put()
            raise Lost()
        for level, line in outcome.warnings:
            ledger.log(level, line)
        if outcome.variables:
            self._set_variables(outcome.variables)
        if chunk:
            left_out = f", {outcome.dropped} left out" if outcome.dropped else ""
            ledger.log(
                LogLevel.INFO,
                f"Records {start + 1} to {start + len(chunk)}: "
                f"{tally.ok} written, {tally.failed} failed{left_out}"
                + (" (the rest had a result before the agent was lost)." if resuming else "."),
            )
        ledger.add_responses(outcome.responses)  # kept only if the run answers with them
        ledger.commit_batch(len(chunk), tally)
        if outcome.fatal is not None:
            raise outcome.fatal

    def _key_of(self, record: Any) -> str:
        if self.source_type is None:
            return ""
        return steps.record_key(self.source_type, record)

    def _entries(self, start: int, count: int) -> dict[int, tuple[int, Any]]:
        """A re-run's records re-enter the chain at the step where each failed."""
        entry_steps = self.run.input_steps or []
        out: dict[int, tuple[int, Any]] = {}
        for offset in range(count):
            index = start + offset
            entry = entry_steps[index] if index < len(entry_steps) else None
            if entry:
                out[offset] = (int(entry[0]), entry[1])
        return out

    # ------------------------------------------------------------------- chain's host
    def write(
        self,
        node: Node,
        records: list[dict],
        *,
        resuming: bool,
        on_result: Callable[[int, RecordResult], None],
    ) -> steps.Written:
        """Write records with a target step: its context, its part of the journal."""
        context = self.contexts[node.id]
        context.journal = (
            PrefixedJournal(self.journal, node.journal_prefix)
            if node.journal_prefix
            else self.journal
        )
        context.resuming = resuming
        context.on_result = self._guarded(on_result)
        activity_type, config = self.types[node.id], node.activity.config
        items = [steps.Item(i, record, "", record) for i, record in enumerate(records)]
        try:
            return steps.write_batch(
                lambda batch: activity_type.write(context, config, batch), items
            )
        finally:
            context.on_result = None

    def _guarded(
        self, on_result: Callable[[int, RecordResult], None]
    ) -> Callable[[int, RecordResult], None]:
        """Never raises into the target: a lost run shows through ``is_cancelled``."""

        def guarded(index: int, result: RecordResult) -> None:
            if self._lost:
                return
            try:
                on_result(index, result)
            except (OperationalError, InterfaceError):
                # Kept in memory; stored with the batch, or resumed by the next attempt.
                logger.warning("Run %s: progress not stored", self.run.pk, exc_info=True)

        return guarded

    def mark_lost(self) -> None:
        self._lost = True

    def invoke(
        self,
        node: Node,
        records: list[dict] | None,
        *,
        child_id: int | None,
        remember: Callable[[int], None],
    ) -> str:
        """Start the invoked operation (once, even across attempts); wait for it if the step
        says so. Returns why it failed, or ""."""
        if child_id is None:
            operation = Operation.objects.filter(pk=node.invoke, project=self.run.project).first()
            if operation is None:
                return "The operation to invoke no longer exists."
            try:
                with transaction.atomic():
                    child = services.run_start(
                        operation=operation,
                        trigger=RunTrigger.ACTION,
                        parent=self.run,
                        records=records,
                    )
                    remember(child.pk)
            except services.RunRefused as exc:
                return f"“{operation.name}” was not started: {exc}"
            child_id = child.pk
            self.ledger.log(
                LogLevel.INFO, f"{node.name}: started “{operation.name}” (run {child_id})."
            )
        if not node.wait:
            return ""
        # Waited for: run here, in this worker, rather than wait for a free one (a single
        # worker would otherwise wait for itself). Another worker that got it first runs it.
        execute(run_id=child_id, agent_name=self.agent_name)
        while True:
            child = OperationRun.objects.get(pk=child_id)
            if child.is_final:
                break
            if self.is_cancelled():
                return "Not finished: the run stopped while waiting for the invoked operation."
            time.sleep(CANCEL_CHECK_SECONDS)
        if child.status in (RunStatus.ERROR, RunStatus.CANCELED):
            return (
                f"The invoked operation “{child.operation.name}” (run {child.pk}) ended "
                f"{child.get_status_display()}: {child.message}"
            )
        return ""

    def _set_variables(self, values: dict[str, Any]) -> None:
        """Project variables a script set: kept after each batch (secret ones stay secret)."""
        for name, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            if not variable_name.regex.match(name):
                self.ledger.log(LogLevel.WARNING, f"Script: “{name}” is not a variable name.")
                continue
            variable = Variable.objects.filter(project=self.run.project, name=name).first()
            if variable is None:
                Variable.objects.create(project=self.run.project, name=name, value=text)
            elif variable.is_secret:
                Variable.objects.filter(pk=variable.pk).update(
                    value_encrypted=encrypt_json({"value": text}), version=F("version") + 1
                )
            else:
                Variable.objects.filter(pk=variable.pk).update(value=text, version=F("version") + 1)
            if variable is not None and variable.is_secret:
                self.ledger.secrets.setdefault("script_variables", {})[name] = text

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
