"""Writes for operation runs: start, claim, cancel, re-run, settings, heartbeats, reaping.

Views, tasks and commands stay thin over these. Every status change is one conditional
UPDATE (``filter(status=...).update(...)``) so two processes can never both win a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from connectors.registry import get_connector
from designer.audit.models import AuditAction
from designer.audit.services import audit_record
from designer.design.models import AgentLostPolicy, Operation, Step, StepKind
from designer.runs.agent_log import bounded_lines
from designer.runs.models import (
    FINAL_STATUSES,
    Agent,
    LogLevel,
    OperationRun,
    RecordFailure,
    RunLogLine,
    RunStatus,
    RunTrigger,
)
from designer.runs.plan import steps_of
from designer.runs.publish import publish_run
from designer.runs.signals import send_run_finished_on_commit

MAX_CHAIN_DEPTH = 25  # actions: a run started by 25 chained actions is refused (loop guard)
MAX_DEBUG_DAYS = 14


class RunRefused(Exception):
    """The operation can't be run as it is; the message says why, for the user."""


class RunsWaiting(RunRefused):
    """Refused because enough runs of the operation are already waiting (Pending): one
    without input records, RUNS_MAX_PENDING_WITH_INPUT with their own (issue 17.12)."""

    def __init__(self, message: str, *, waiting_run_id: int | None = None) -> None:
        super().__init__(message)
        self.waiting_run_id = waiting_run_id


# --------------------------------------------------------------------------------------------
# Starting, claiming, cancelling
# --------------------------------------------------------------------------------------------


def _required_connectors(operation: Operation, *, with_input: bool = False) -> dict[str, str]:
    """Connector key -> version, for every activity of the operation's steps; refused when
    the chain can't start (no source, unless records come with the run or it starts with an
    invoke step; nothing that writes or invokes)."""
    chain = steps_of(operation)
    main = sorted((s for s in chain if s.parent_id is None), key=lambda s: (s.position, s.pk))
    first = main[0].kind if main else ""
    if first != StepKind.SOURCE and not with_input and first != StepKind.INVOKE:
        raise RunRefused(f"Operation “{operation.name}” has no source activity.")
    if not any(s.kind in (StepKind.TARGET, StepKind.INVOKE) for s in chain):
        raise RunRefused(f"Operation “{operation.name}” has no target activity.")
    versions: dict[str, str] = {}
    for activity in (s.activity for s in chain if s.activity_id is not None):
        key = activity.connection.connector_key
        try:
            versions[key] = get_connector(key).version
        except KeyError:
            raise RunRefused(f"The connector {key!r} is not installed.") from None
    return versions


def run_start(
    *,
    operation: Operation,
    trigger: str,
    user: Any = None,
    records: Sequence[dict] | None = None,
    parent: OperationRun | None = None,
    entry_steps: Sequence[list | None] | None = None,
) -> OperationRun:
    """Create a Pending run and queue its id on the project's agent group once committed.

    ``entry_steps`` (re-runs): per record, [step id, the record as it entered that step] to
    re-enter the chain there, or None to start at the beginning."""
    chain_depth = parent.chain_depth + 1 if parent and trigger == RunTrigger.ACTION else 0
    if chain_depth > MAX_CHAIN_DEPTH:
        raise RunRefused(f"Refused: more than {MAX_CHAIN_DEPTH} operations chained by actions.")
    required = _required_connectors(operation, with_input=records is not None)
    now = timezone.now()
    with transaction.atomic():
        _check_waiting(operation, with_input=records is not None)
        run = _create_run(
            operation=operation,
            trigger=trigger,
            user=user,
            records=records,
            parent=parent,
            chain_depth=chain_depth,
            required=required,
            now=now,
        )
        if entry_steps is not None and any(entry_steps):
            run.input_steps = list(entry_steps)
            run.save(update_fields=["input_steps"])
    transaction.on_commit(lambda: publish_run(run.pk, run.queue))
    return run


def _check_waiting(operation: Operation, *, with_input: bool) -> None:
    """At most one run of an operation waits for an agent (a second Run click or schedule
    start would only repeat it); runs bringing their own records (re-runs, API triggers)
    queue up to RUNS_MAX_PENDING_WITH_INPUT. The operation's row is locked meanwhile, so two
    starts at once can't both pass."""
    list(Operation.objects.select_for_update().filter(pk=operation.pk).values_list("pk"))
    pending = OperationRun.objects.filter(
        operation=operation, status=RunStatus.PENDING, input_records__isnull=not with_input
    )
    if not with_input:
        waiting = pending.values_list("pk", flat=True).first()
        if waiting is not None:
            raise RunsWaiting(
                f"“{operation.name}” is already queued (run {waiting}); it starts when an "
                "agent is free, so it was not queued again.",
                waiting_run_id=waiting,
            )
        return
    cap = settings.RUNS_MAX_PENDING_WITH_INPUT
    if pending.count() >= cap:
        raise RunsWaiting(
            f"{cap} runs of “{operation.name}” with their own records are already waiting "
            "(the most allowed); try again once some have started."
        )


def _create_run(
    *,
    operation: Operation,
    trigger: str,
    user: Any,
    records: Sequence[dict] | None,
    parent: OperationRun | None,
    chain_depth: int,
    required: dict[str, str],
    now: datetime,
) -> OperationRun:
    project = operation.project
    run = OperationRun.objects.create(
        project=project,
        operation=operation,
        trigger=trigger,
        triggered_by=user if getattr(user, "is_authenticated", False) else None,
        parent=parent,
        chain_depth=chain_depth,
        queue=project.agent_group,
        debug=bool(operation.debug_until and operation.debug_until > now),
        required_connectors=required,
        input_records=list(records) if records is not None else None,
        total_expected=len(records) if records is not None else None,
    )
    who = f" by {user.get_username()}" if run.triggered_by_id else ""
    run_log(
        run_id=run.pk,
        message=f"Queued on agent group “{run.queue}”{who} ({run.get_trigger_display()}).",
    )
    return run


def run_log(*, run_id: int, message: str, level: str = LogLevel.INFO) -> None:
    RunLogLine.objects.create(run_id=run_id, level=level, message=message[:10_000])


def agent_for(name: str) -> Agent:
    agent, _ = Agent.objects.get_or_create(name=name, defaults={"last_heartbeat": timezone.now()})
    return agent


def run_claim(*, run_id: int, agent_name: str) -> bool:
    """Pending -> Running in one conditional UPDATE; False if someone else has it (or had)."""
    agent = agent_for(agent_name)
    claimed = OperationRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING,
        agent=agent,
        agent_name=agent_name,
        attempts=F("attempts") + 1,
        # A re-queued run keeps its first start time, so duration and time-out stay honest.
        started_at=Coalesce(F("started_at"), Value(timezone.now())),
        heartbeat_at=timezone.now(),
    )
    return claimed == 1


def run_cancel(*, run: OperationRun, user: Any = None) -> bool:
    """Pending: Canceled at once. Running: Cancel Requested; the engine stops at the next
    batch. False if the run had already ended."""
    who = user.get_username() if getattr(user, "is_authenticated", False) else "the system"
    now = timezone.now()
    if OperationRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
        status=RunStatus.CANCELED, ended_at=now, message=f"Canceled by {who} before it started."
    ):
        run_log(run_id=run.pk, message=f"Canceled by {who} before it started.")
        send_run_finished_on_commit(run.pk)
    elif OperationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.CANCEL_REQUESTED
    ):
        run_log(run_id=run.pk, message=f"Cancel requested by {who}.")
    else:
        return False
    audit_record(
        project=run.project,
        actor=user,
        action=AuditAction.CANCEL,
        kind="run",
        name=f"{run.operation.name} run {run.pk}",
    )
    return True


def run_rerun_failed(*, run: OperationRun, user: Any = None) -> OperationRun:
    """Run the failed records again, each entering the chain at the step it failed at (as it
    entered that step), or at the start when that step is gone or unknown."""
    failures = [
        (record, step_id, step_input)
        for record, step_id, step_input in run.failures.values_list(
            "record", "step_id", "step_input"
        )
        if record is not None
    ]
    if not failures:
        raise RunRefused("This run has no failed records to re-run.")
    return run_start(
        operation=run.operation,
        trigger=RunTrigger.RERUN,
        user=user,
        records=[record for record, _, _ in failures],
        parent=run,
        entry_steps=[
            [step_id, step_input] if step_id is not None and step_input is not None else None
            for _, step_id, step_input in failures
        ],
    )


# --------------------------------------------------------------------------------------------
# Operation run settings: actions, time-out, agent-lost policy, debug logging
# --------------------------------------------------------------------------------------------


def action_chain_loop(
    *,
    operation: Operation,
    on_success_id: int | None,
    on_fail_id: int | None,
    on_complete_id: int | None = None,
) -> list[int] | None:
    """The operation ids of the loop these actions would close, or None (one query)."""
    edges: dict[int, tuple[int | None, ...]] = {
        pk: (ok, fail, complete)
        for pk, ok, fail, complete in Operation.objects.filter(
            project_id=operation.project_id
        ).values_list("pk", "on_success_id", "on_fail_id", "on_complete_id")
    }
    edges[operation.pk] = (on_success_id, on_fail_id, on_complete_id)
    # Depth-first from the operation's new targets; a path back to it is a loop.
    stack: list[tuple[int, list[int]]] = [
        (nxt, [operation.pk, nxt]) for nxt in edges[operation.pk] if nxt
    ]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node == operation.pk:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in edges.get(node, ()) if nxt)
    return None


def operation_update_run_settings(
    *,
    operation: Operation,
    on_success: Operation | None,
    on_fail: Operation | None,
    timeout_seconds: int,
    on_agent_lost: str,
    user: Any = None,
    on_complete: Operation | None = None,
) -> Operation:
    for other in (on_success, on_fail, on_complete):
        if other is not None and other.project_id != operation.project_id:
            raise RunRefused("Actions can only run operations of the same project.")
    loop = action_chain_loop(
        operation=operation,
        on_success_id=on_success.pk if on_success else None,
        on_fail_id=on_fail.pk if on_fail else None,
        on_complete_id=on_complete.pk if on_complete else None,
    )
    if loop:
        names = dict(Operation.objects.filter(pk__in=loop).values_list("pk", "name"))
        raise RunRefused("These actions would loop: " + " → ".join(names[pk] for pk in loop))
    if timeout_seconds < 1:
        raise RunRefused("The time-out must be at least one second.")
    if on_agent_lost not in AgentLostPolicy.values:
        raise RunRefused("Unknown agent-lost policy.")
    operation.on_success = on_success
    operation.on_fail = on_fail
    operation.on_complete = on_complete
    operation.timeout_seconds = timeout_seconds
    operation.on_agent_lost = on_agent_lost
    operation.updated_by = user if getattr(user, "is_authenticated", False) else None
    operation.version = F("version") + 1
    operation.save(
        update_fields=[
            "on_success",
            "on_fail",
            "on_complete",
            "timeout_seconds",
            "on_agent_lost",
            "updated_by",
            "version",
            "updated_at",
        ]
    )
    operation.refresh_from_db()
    return operation


def operation_set_debug(
    *, operation: Operation, until: datetime | None, user: Any = None
) -> Operation:
    """Debug logging until ``until`` (at most two weeks ahead); None turns it off."""
    now = timezone.now()
    if until is not None:
        if until <= now:
            raise RunRefused("Pick a time in the future.")
        if until > now + timedelta(days=MAX_DEBUG_DAYS):
            raise RunRefused(f"Debug logging can be on for at most {MAX_DEBUG_DAYS} days.")
    Operation.objects.filter(pk=operation.pk).update(debug_until=until, updated_at=now)
    operation.debug_until = until
    return operation


# --------------------------------------------------------------------------------------------
# Agents: heartbeats, lost agents, retention
# --------------------------------------------------------------------------------------------


def agent_heartbeat(
    *,
    name: str,
    hostname: str = "",
    pid: int | None = None,
    queues: Sequence[str] = (),
    app_version: str = "",
    connector_versions: dict[str, str] | None = None,
    starting: bool = False,
    log_lines: Sequence[str] | None = None,
) -> Agent:
    now = timezone.now()
    values: dict[str, Any] = {
        "hostname": hostname,
        "pid": pid,
        "queues": list(queues),
        "app_version": app_version,
        "connector_versions": dict(connector_versions or {}),
        "last_heartbeat": now,
        "stopped_at": None,
    }
    if starting:
        values["started_at"] = now
    if log_lines is not None:  # None: a sender that keeps no log leaves the last one shown
        values["recent_log"] = bounded_lines(log_lines)
    agent, _ = Agent.objects.update_or_create(name=name, defaults=values)
    return agent


def agent_stopped(*, name: str) -> None:
    Agent.objects.filter(name=name).update(stopped_at=timezone.now())


def _fail_in_flight(run: OperationRun, reason: str) -> int:
    """Report the records of the batch that was being written, and have no committed result,
    as failed: their outcome is unknown, and a record must be either counted done once or
    reported. Returns how many."""
    done = set(run.in_flight_done or [])
    start = run.source_records
    stage = run.in_flight_stage or {}
    step_id = stage.get("step")
    step_name = str((run.step_counts or {}).get(str(step_id), {}).get("name", ""))
    if step_id is not None and not Step.objects.filter(pk=step_id).exists():
        step_id = None
    failures = [
        RecordFailure(
            run_id=run.pk,
            index=start + offset,
            key=str(item.get("key", ""))[:300],
            error_key="agent_lost",
            error_message=f"{step_name}: {reason}" if step_name else reason,
            record=item.get("record"),
            step_id=step_id,
            step_name=step_name[:300],
        )
        for offset, item in enumerate(run.in_flight_records or [])
        if offset not in done
    ]
    RecordFailure.objects.bulk_create(failures)
    return len(failures)


def runs_reap_lost(*, now: datetime | None = None) -> list[int]:
    """End or re-queue runs whose agent went silent, and end runs far past their time-out.

    Silence is judged per run (``heartbeat_at``, refreshed by the executing process), so a
    dead pool process is caught even while its worker's main process still sends heartbeats.

    Safe to call from several processes at once: each change is a conditional UPDATE.
    Returns the ids of the runs it changed.
    """
    now = now or timezone.now()
    lost_after = timedelta(seconds=settings.RUNS_AGENT_LOST_SECONDS)
    cutoff = now - lost_after
    candidates = (
        OperationRun.objects.filter(status__in=[RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED])
        .defer("input_records")
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .select_related("operation", "agent")
    )
    changed: list[int] = []
    for run in candidates:
        if _reap_one(run, now=now, reason="lost"):
            changed.append(run.pk)
    # Runs whose agent is alive but which are long past their time-out (a stuck call).
    # Only the timing columns are read for the check (every worker runs this every beat).
    overdue = [
        pk
        for pk, started_at, timeout in OperationRun.objects.filter(
            status__in=[RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED], started_at__isnull=False
        ).values_list("pk", "started_at", "operation__timeout_seconds")
        if now > started_at + timedelta(seconds=timeout) + lost_after and pk not in changed
    ]
    for run in OperationRun.objects.filter(pk__in=overdue).select_related("operation", "agent"):
        if _reap_one(run, now=now, reason="timeout"):
            changed.append(run.pk)
    for pk in changed:
        run = OperationRun.objects.select_related("operation").get(pk=pk)
        if run.status == RunStatus.PENDING:
            OperationRun.objects.filter(pk=pk).update(published_at=now)
            transaction.on_commit(lambda r=run: publish_run(r.pk, r.queue))
        else:
            run_actions(run=run)
    return changed + runs_republish_stale(now=now)


def runs_republish_stale(*, now: datetime | None = None) -> list[int]:
    """Publish again the Pending runs whose message no agent picked up.

    A broker can lose a queued message (Redis without persistence restarting). A run still
    Pending RUNS_PENDING_REPUBLISH_SECONDS after its message was published, on a queue whose
    online agents are not all busy, gets a new message. Claims are idempotent, so a message
    that was only slow costs one delivery that finds nothing to claim.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.RUNS_PENDING_REPUBLISH_SECONDS)
    alive = now - timedelta(seconds=settings.RUNS_AGENT_LOST_SECONDS)
    agents: dict[str, int] = {}
    for queues in Agent.objects.filter(
        last_heartbeat__gte=alive, stopped_at__isnull=True
    ).values_list("queues", flat=True):
        for queue in queues or ():
            agents[queue] = agents.get(queue, 0) + 1
    busy: dict[str, int] = {}
    for queue in OperationRun.objects.filter(
        status__in=[RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED], queue__in=list(agents)
    ).values_list("queue", flat=True):
        busy[queue] = busy.get(queue, 0) + 1
    idle = [queue for queue, count in agents.items() if busy.get(queue, 0) < count]
    republished: list[int] = []
    stale_runs = OperationRun.objects.filter(
        status=RunStatus.PENDING, published_at__lt=stale, queue__in=idle
    ).values_list("pk", "queue")
    for pk, queue in stale_runs:
        # Conditional, so two reapers at once publish it once.
        if OperationRun.objects.filter(
            pk=pk, status=RunStatus.PENDING, published_at__lt=stale
        ).update(published_at=now):
            run_log(
                run_id=pk,
                level=LogLevel.WARNING,
                message="No agent picked this run up; queued again (the broker may have lost "
                "its message).",
            )
            transaction.on_commit(lambda pk=pk, queue=queue: publish_run(pk, queue))
            republished.append(pk)
    return republished


def _reap_one(run: OperationRun, *, now: datetime, reason: str) -> bool:
    agent = run.agent_name or "an unknown agent"
    last = run.heartbeat_at
    if reason == "timeout":
        status, message = (
            RunStatus.ERROR,
            f"Timed out: still running {run.operation.timeout_seconds} s after it started "
            f"and {agent} did not stop it (operation time-out).",
        )
    elif run.status == RunStatus.CANCEL_REQUESTED:
        status, message = RunStatus.CANCELED, f"Canceled; agent lost: {agent} went silent."
    elif (
        run.operation.on_agent_lost == AgentLostPolicy.REQUEUE
        and run.attempts <= settings.RUNS_MAX_REQUEUES
    ):
        status, message = RunStatus.PENDING, ""
    else:
        when = f" (last heartbeat {last:%Y-%m-%d %H:%M:%S} UTC)" if last else ""
        status, message = (
            RunStatus.ERROR,
            f"Agent lost: {agent} stopped sending heartbeats{when}; the run was ended.",
        )
    in_flight = len(run.in_flight_records or [])
    with transaction.atomic():
        values: dict[str, Any] = {"status": status}
        if status == RunStatus.PENDING:
            # The batch in flight stays, with its journal and per-record progress: the next
            # attempt hands its unfinished records back to the target, which finds out what
            # the lost one already did.
            values.update(agent=None, agent_name="")
        else:
            values.update(
                ended_at=now,
                message=message,
                in_flight_records=None,
                in_flight_done=None,
                in_flight_journal=None,
                in_flight_stage=None,
            )
            if in_flight:
                unknown = in_flight - len(run.in_flight_done or [])
                values.update(
                    source_records=F("source_records") + in_flight,
                    failed_records=F("failed_records") + unknown,
                )
        updated = OperationRun.objects.filter(
            pk=run.pk, status=run.status, agent_id=run.agent_id, attempts=run.attempts
        ).update(**values)
        if not updated:
            return False
        if status == RunStatus.PENDING:
            resume = (
                f"resuming the batch in flight (records {run.source_records + 1} to "
                f"{run.source_records + in_flight})"
                if in_flight
                else f"resuming after record {run.source_records}"
            )
            run_log(
                run_id=run.pk,
                level=LogLevel.WARNING,
                message=f"Agent lost: {agent} went silent; re-queued on “{run.queue}” "
                f"(attempt {run.attempts + 1}), {resume}.",
            )
        else:
            if in_flight:
                _fail_in_flight(
                    run,
                    f"Outcome unknown: {agent} was lost while writing this record's batch; "
                    "it may or may not have been written.",
                )
            run_log(run_id=run.pk, level=LogLevel.ERROR, message=message)
            send_run_finished_on_commit(run.pk)
    return True


def run_actions(*, run: OperationRun) -> OperationRun | None:
    """On Success / On Fail: start the next operation, if the finished run has one."""
    if run.trigger == RunTrigger.RERUN:
        return None  # re-running failed records is a repair, not a new pass of the chain
    operation = run.operation
    if run.status in (RunStatus.SUCCESS, RunStatus.WARNING):
        nxt, label = operation.on_success, "On Success"
    elif run.status == RunStatus.ERROR:
        nxt, label = operation.on_fail, "On Fail"
    else:
        return None
    started = [_start_action(run, nxt, label)] if nxt is not None else []
    if operation.on_complete is not None:  # whatever the outcome, once it completed
        started.append(_start_action(run, operation.on_complete, "On Complete"))
    return next((child for child in started if child is not None), None)


def _start_action(run: OperationRun, nxt: Operation, label: str) -> OperationRun | None:
    try:
        child = run_start(operation=nxt, trigger=RunTrigger.ACTION, parent=run)
    except RunRefused as exc:
        run_log(run_id=run.pk, level=LogLevel.ERROR, message=f"{label}: {exc}")
        return None
    run_log(run_id=run.pk, message=f"{label}: started “{nxt.name}” (run {child.pk}).")
    return child


def runs_prune(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete finished runs (with their log lines, failures, debug samples) older than the
    retention, and agents silent for as long. Returns the number of rows deleted."""
    now = now or timezone.now()
    days = settings.RUNS_RETENTION_DAYS if days is None else days
    cutoff = now - timedelta(days=days)
    deleted, _ = OperationRun.objects.filter(
        created_at__lt=cutoff, status__in=FINAL_STATUSES
    ).delete()
    agents, _ = Agent.objects.filter(last_heartbeat__lt=cutoff).delete()
    return deleted + agents
