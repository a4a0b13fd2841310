"""Reads for operation runs: the canvas's last statuses, logs, a run's page."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from designer.design.models import Operation
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
    return {run.operation_id: run for run in OperationRun.objects.filter(pk__in=latest)}


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
