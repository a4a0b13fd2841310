"""Reads for the management console, always limited to a ConsoleScope's projects."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from designer.accounts.models import Invitation, ProjectInvitation
from designer.console.access import ConsoleScope
from designer.console.models import AgentGroup
from designer.design.models import Connection, Operation
from designer.projects.models import Membership, Project
from designer.runs.models import ACTIVE_STATUSES, Agent, OperationRun, RunStatus


def runs(
    *,
    scope: ConsoleScope,
    project_id: int | None = None,
    status: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[OperationRun]:
    found = OperationRun.objects.select_related("project", "operation", "agent")
    ids = scope.id_list()
    if ids is not None:
        found = found.filter(project_id__in=ids)
    if project_id is not None:
        found = found.filter(project_id=project_id)
    if status == "active":
        found = found.filter(status__in=ACTIVE_STATUSES)
    elif status in RunStatus.values:
        found = found.filter(status=status)
    if since is not None:
        found = found.filter(created_at__gte=since)
    if until is not None:
        found = found.filter(created_at__lt=until)
    return found.order_by("-created_at", "-id")


def run_for_console(*, scope: ConsoleScope, run_id: int) -> OperationRun | None:
    run = (
        OperationRun.objects.select_related("project", "operation", "agent", "triggered_by")
        .filter(pk=run_id)
        .first()
    )
    return run if run is not None and scope.covers(run.project_id) else None


def _count(model: Any, **filters: Any) -> Coalesce:
    """A correlated COUNT subquery: several counts on one row without join blow-up."""
    counted = (
        model.objects.filter(project=OuterRef("pk"), **filters)
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def projects(*, scope: ConsoleScope) -> QuerySet[Project]:
    members = Membership.objects.select_related("user").order_by("role", "user__username")
    return (
        scope.projects()
        .annotate(
            endpoint_count=_count(Connection),
            operation_count=_count(Operation),
            run_count=_count(OperationRun),
            active_run_count=_count(OperationRun, status__in=ACTIVE_STATUSES),
        )
        .prefetch_related(Prefetch("memberships", queryset=members))
        .order_by("name", "id")
    )


def users(*, scope: ConsoleScope, query: str = "") -> QuerySet:
    User = get_user_model()
    found = User.objects.all()
    ids = scope.id_list()
    member_rows = Membership.objects.select_related("project").order_by("project__name")
    if ids is not None:
        found = found.filter(memberships__project_id__in=ids).distinct()
        member_rows = member_rows.filter(project_id__in=ids)
    if query:
        found = found.filter(Q(username__icontains=query) | Q(email__icontains=query))
    return found.prefetch_related(Prefetch("memberships", queryset=member_rows)).order_by(
        "username"
    )


def invitations(*, limit: int = 50) -> list[Invitation]:
    """Open invitations first (oldest expiry first), then the latest accepted or revoked."""
    rows = Invitation.objects.select_related("created_by", "accepted_user").prefetch_related(
        Prefetch("grants", queryset=ProjectInvitation.objects.select_related("project"))
    )
    open_rows = list(
        rows.filter(accepted_at__isnull=True, revoked_at__isnull=True).order_by("expires_at")[
            :limit
        ]
    )
    closed = list(rows.exclude(pk__in=[i.pk for i in open_rows]).order_by("-created_at")[:10])
    return open_rows + closed


@dataclass
class AgentRow:
    agent: Agent
    runs_in_progress: int


def agents(*, scope: ConsoleScope) -> list[AgentRow]:
    """Agents (workers) with their queues; for project Admins only those serving the agent
    groups of their projects, and counting only their projects' runs."""
    ids = scope.id_list()
    active = Q(runs__status__in=ACTIVE_STATUSES)
    if ids is not None:
        active &= Q(runs__project_id__in=ids)
    rows = Agent.objects.annotate(in_progress=Count("runs", filter=active)).order_by("name")
    if ids is not None:
        groups = set(scope.projects().values_list("agent_group", flat=True))
        rows = [a for a in rows if groups.intersection(a.queues or [])]
    return [AgentRow(agent=a, runs_in_progress=a.in_progress) for a in rows]


@dataclass
class GroupRow:
    """An agent group as the Agents page shows it."""

    name: str
    group: AgentGroup | None  # None: used by projects or agents but not defined in the console
    is_default: bool
    projects: list[Project]
    pending: int  # the queue depth: runs waiting for an agent of this group
    running: int
    agents: list[AgentRow]

    @property
    def live_agents(self) -> int:
        return sum(1 for row in self.agents if row.agent.online)

    @property
    def stranded(self) -> bool:
        """Runs are waiting and no live agent serves the group: nothing will run them."""
        return self.pending > 0 and self.live_agents == 0

    @property
    def command(self) -> str:
        return agent_command(self.name)


def agent_command(group: str) -> str:
    """The command that starts one more agent in ``group`` (same code and environment)."""
    quoted = shlex.quote(group)
    return f"celery -A designer worker -Q {quoted} --hostname {shlex.quote(group + '-agent')}@%h"


def agent_groups(*, scope: ConsoleScope) -> list[GroupRow]:
    """Every group with its projects, queue depth and agents; for project Admins only the
    groups of their projects, counting only their projects' runs."""
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    defined = {g.name: g for g in AgentGroup.objects.all()}
    projects_by_group: dict[str, list[Project]] = {}
    for project in scope.projects().only("pk", "name", "agent_group").order_by("name"):
        projects_by_group.setdefault(project.agent_group, []).append(project)
    agent_rows = agents(scope=scope)
    if scope.is_staff:
        names = set(defined) | {default} | set(projects_by_group)
        names |= {q for row in agent_rows for q in (row.agent.queues or [])}
    else:
        names = set(projects_by_group)
    counts = runs(scope=scope).filter(queue__in=names, status__in=ACTIVE_STATUSES)
    depth: dict[tuple[str, str], int] = {}
    for row in counts.order_by().values("queue", "status").annotate(n=Count("pk")):
        depth[(row["queue"], row["status"])] = row["n"]
    found = [
        GroupRow(
            name=name,
            group=defined.get(name),
            is_default=name == default,
            projects=projects_by_group.get(name, []),
            pending=depth.get((name, RunStatus.PENDING), 0),
            running=sum(
                depth.get((name, s), 0) for s in (RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED)
            ),
            agents=[row for row in agent_rows if name in (row.agent.queues or [])],
        )
        for name in names
    ]
    # The default group first, then defined groups, then names nobody defined.
    return sorted(found, key=lambda g: (not g.is_default, g.group is None, g.name))


# --- The front page's chart -----------------------------------------------------------------

CHART_STATUSES = [
    (RunStatus.SUCCESS, "Success", "var(--ok)"),
    (RunStatus.WARNING, "Success with Warning", "var(--warn)"),
    (RunStatus.ERROR, "Error", "var(--danger)"),
    (RunStatus.CANCELED, "Canceled", "var(--muted)"),
    ("active", "Pending or running", "var(--accent)"),
]


@dataclass
class ChartDay:
    day: date
    x: int  # left edge in the SVG's units (40 per day)
    counts: dict[str, int]
    total: int
    # (status, label, colour, count, y, height) in the SVG's units, bottom-up.
    bars: list[tuple[str, str, str, int, float, float]]


def runs_per_day(*, scope: ConsoleScope, days: int = 14, height: float = 100.0) -> list[ChartDay]:
    """Runs per day by status for the last ``days`` days (today included), stacked bars."""
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    rows = (
        runs(scope=scope, since=since)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day", "status")
        .annotate(n=Count("pk"))
    )
    by_day: dict[date, dict[str, int]] = {start + timedelta(d): {} for d in range(days)}
    for row in rows:
        key = "active" if row["status"] in ACTIVE_STATUSES else row["status"]
        counts = by_day.setdefault(row["day"], {})
        counts[key] = counts.get(key, 0) + row["n"]
    peak = max((sum(c.values()) for c in by_day.values()), default=0) or 1
    chart = []
    for i, day in enumerate(sorted(by_day)):
        counts = by_day[day]
        bars, y = [], height
        for status, label, colour in CHART_STATUSES:
            n = counts.get(str(status), 0)
            if n:
                h = height * n / peak
                y -= h
                bars.append((str(status), label, colour, n, round(y, 2), round(h, 2)))
        chart.append(
            ChartDay(day=day, x=i * 40, counts=counts, total=sum(counts.values()), bars=bars)
        )
    return chart


def summary(*, scope: ConsoleScope) -> dict[str, int]:
    day_ago = timezone.now() - timedelta(hours=24)
    scoped = runs(scope=scope)
    return {
        "projects": scope.projects().count(),
        "active_runs": scoped.filter(status__in=ACTIVE_STATUSES).count(),
        "runs_24h": scoped.filter(created_at__gte=day_ago).count(),
        "errors_24h": scoped.filter(created_at__gte=day_ago, status=RunStatus.ERROR).count(),
        "agents_online": sum(1 for row in agents(scope=scope) if row.agent.online),
    }


def agent_for_console(*, scope: ConsoleScope, agent_id: int) -> Agent | None:
    """An agent, if it serves a group of the scope's projects (any agent for staff)."""
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None or scope.is_staff:
        return agent
    groups = set(scope.projects().values_list("agent_group", flat=True))
    return agent if groups.intersection(agent.queues or []) else None


def agent_recent_runs(*, scope: ConsoleScope, agent: Agent, limit: int = 50) -> list[OperationRun]:
    return list(
        OperationRun.objects.filter(agent=agent)
        .filter(**({} if scope.is_staff else {"project_id__in": scope.id_list()}))
        .select_related("project", "operation")
        .order_by("-created_at", "-id")[:limit]
    )
