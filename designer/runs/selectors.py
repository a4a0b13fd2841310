"""Reads for operation runs: the canvas's last statuses, logs, a run's page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from designer.design.models import Operation, Step
from designer.projects.models import Project
from designer.runs.models import Agent, OperationRun, RunStatus, Schedule


def project_schedules(project: Project) -> list[Schedule]:
    """The project's schedules with their operation (one query), for the designer page."""
    return list(Schedule.objects.filter(project=project).select_related("operation").order_by("id"))


def last_runs_by_operation(project: Project) -> dict[int, OperationRun]:
    """Operation id -> its latest run, in ONE query (ids grow with creation)."""
    latest = (
        OperationRun.objects.filter(project=project)
        .values("operation_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    # A badge shows the status: not the records a run carries (an API run's input, the batch
    # in flight), which may be large and would be read for every card on every page load.
    heavy = (
        "input_records",
        "in_flight_records",
        "in_flight_done",
        "in_flight_journal",
        "in_flight_stage",
        "input_steps",
        "step_counts",
        "required_connectors",
    )
    runs = OperationRun.objects.filter(pk__in=latest).defer(*heavy)
    return {run.operation_id: run for run in runs}


def last_run_of(operation: Operation) -> OperationRun | None:
    return OperationRun.objects.filter(operation=operation).order_by("-id").first()


def runs_for_log(
    *,
    project: Project,
    operation_id: int | None = None,
    status: str = "",
    query: str = "",
) -> QuerySet[OperationRun]:
    """Runs newest first, optionally for one operation, one status, or a text in messages."""
    runs = OperationRun.objects.filter(project=project).select_related("operation", "agent")
    if operation_id is not None:
        runs = runs.filter(operation_id=operation_id)
    if status in RunStatus.values:
        runs = runs.filter(status=status)
    if query:
        matching = OperationRun.objects.filter(
            Q(message__icontains=query)
            | Q(log_lines__message__icontains=query)
            | Q(failures__error_message__icontains=query)
            | Q(failures__key__icontains=query)
        ).values("pk")
        runs = runs.filter(pk__in=matching)
    return runs.order_by("-created_at", "-id")


def run_for_page(*, project: Project, run_id: int) -> OperationRun | None:
    return (
        OperationRun.objects.filter(project=project, pk=run_id)
        .select_related("operation", "agent", "parent", "triggered_by")
        .first()
    )


def queue_has_online_agent(queue: str) -> bool:
    """Whether any agent with a fresh heartbeat consumes this agent group (queue)."""
    fresh = timezone.now() - timedelta(seconds=settings.RUNS_AGENT_LOST_SECONDS)
    agents = Agent.objects.filter(last_heartbeat__gte=fresh, stopped_at__isnull=True)
    return any(queue in (agent.queues or []) for agent in agents.only("queues"))


@dataclass
class StepRow:
    """One step on a run's page: its counts, and on a debug run sample records."""

    name: str
    kind: str
    records_in: int
    records_out: int
    failed: int
    samples_in: str = ""  # JSON text
    samples_out: str = ""
    depth: int = 0  # 1 inside a condition's branch


def step_rows(run: OperationRun) -> list[StepRow]:
    """The run's per-step counts in the order the operation draws its steps (steps deleted
    since keep their row, last)."""
    counts = run.step_counts or {}
    if not counts:
        return []
    steps = Step.objects.filter(operation_id=run.operation_id).values_list(
        "pk", "parent_id", "branch", "position"
    )
    order = {
        str(pk): (position if parent is None else None, parent, branch, position)
        for pk, parent, branch, position in steps
    }

    def sort_key(step_id: str) -> tuple[int, int, int, int, int]:
        """(known?, main-chain position, in a branch?, False branch?, branch position)."""
        found = order.get(step_id)
        if found is None:
            return (1, 0, 0, 0, 0)
        main, parent, branch, position = found
        if parent is None:
            return (0, main, 0, 0, 0)
        parent_position = (order.get(str(parent)) or (0,))[0] or 0
        return (0, parent_position, 1, int(branch != "true"), position)

    rows = []
    for step_id in sorted(counts, key=sort_key):
        row = counts[step_id]
        samples = row.get("samples") or {}
        rows.append(
            StepRow(
                name=str(row.get("name", "")),
                kind=str(row.get("kind", "")),
                records_in=int(row.get("in", 0)),
                records_out=int(row.get("out", 0)),
                failed=int(row.get("failed", 0)),
                samples_in=_json(samples.get("in")),
                samples_out=_json(samples.get("out")),
                depth=1 if (order.get(step_id) or (0, None))[1] is not None else 0,
            )
        )
    return rows


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) if value else ""
