from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from designer.accounts.services import AccountAction
from designer.audit.models import AuditAction, with_reference_names
from designer.audit.selectors import audit_entries
from designer.console import selectors
from designer.console.access import ConsoleScope, console_view
from designer.runs import services as run_services
from designer.runs.models import OperationRun, RunStatus


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _day_start(value: str | None, *, plus_days: int = 0) -> datetime | None:
    day = parse_date(value) if value else None
    if day is None:
        return None
    moment = datetime.combine(day + timedelta(days=plus_days), time.min)
    return timezone.make_aware(moment)


def _member_project_ids(request: HttpRequest) -> set[int]:
    return set(request.user.memberships.values_list("project_id", flat=True))


def _qs(request: HttpRequest) -> str:
    """The current filters as a query string without the page, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@console_view
def index(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    chart = selectors.runs_per_day(scope=scope)
    return render(
        request,
        "console/index.html",
        {
            "scope": scope,
            "section": "index",
            "summary": selectors.summary(scope=scope),
            "chart": chart,
            "chart_legend": selectors.CHART_STATUSES,
            "chart_width": len(chart) * 40,
            "chart_peak": max((d.total for d in chart), default=0),
            "recent": with_reference_names(audit_entries(project_ids=scope.id_list())[:10]),
            "stranded_groups": [g for g in selectors.agent_groups(scope=scope) if g.stranded],
        },
    )


@console_view
def runs(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    project_id = _int(request.GET.get("project"))
    if project_id is not None:
        scope.require(project_id)
    status = request.GET.get("status", "")
    since_text, until_text = request.GET.get("since", ""), request.GET.get("until", "")
    found = selectors.runs(
        scope=scope,
        project_id=project_id,
        status=status,
        since=_day_start(since_text),
        until=_day_start(until_text, plus_days=1),  # "until" is inclusive of that day
    )
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "console/runs.html",
        {
            "scope": scope,
            "section": "runs",
            "page": page,
            "projects": scope.projects().order_by("name"),
            "statuses": [("active", "Pending or running"), *RunStatus.choices],
            "filters": {
                "project": project_id,
                "status": status,
                "since": since_text,
                "until": until_text,
            },
            "qs": _qs(request),
            "member_project_ids": _member_project_ids(request),
        },
    )


@console_view
def run_detail(request: HttpRequest, scope: ConsoleScope, run_id: int) -> HttpResponse:
    """A run as the console sees it: for staff, also runs of projects they are not in."""
    run = selectors.run_for_console(scope=scope, run_id=run_id)
    if run is None:
        raise Http404("No such run")
    return render(
        request,
        "console/run.html",
        {
            "scope": scope,
            "section": "runs",
            "run": run,
            "log_lines": run.log_lines.order_by("-id")[:500],
            "failures": run.failures.all()[:50],
            "is_member": request.user.memberships.filter(project_id=run.project_id).exists(),
        },
    )


@console_view
@require_POST
def run_cancel(request: HttpRequest, scope: ConsoleScope, run_id: int) -> HttpResponse:
    run = OperationRun.objects.select_related("project", "operation").filter(pk=run_id).first()
    if run is None or not scope.covers(run.project_id):
        raise Http404("No such run")
    if run_services.run_cancel(run=run, user=request.user):  # the service writes the history
        messages.success(request, f"Cancel of run {run.pk} ({run.operation.name}) requested.")
    else:
        messages.info(request, f"Run {run.pk} had already ended.")
    back = request.POST.get("next", "")
    if back.startswith("/console/"):
        return redirect(back)
    return redirect("console:runs")


@console_view
def projects(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    return render(
        request,
        "console/projects.html",
        {
            "scope": scope,
            "section": "projects",
            "projects": selectors.projects(scope=scope),
            # Staff see projects they are not in: no settings link for those (it would 404).
            "member_project_ids": _member_project_ids(request),
        },
    )


@console_view
def audit(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    project_id = _int(request.GET.get("project"))
    if project_id is not None:
        scope.require(project_id)
    filters = {
        "project": project_id,
        "action": request.GET.get("action", ""),
        "actor": request.GET.get("actor", "").strip(),
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
    }
    entries = audit_entries(
        project_ids=scope.id_list(),
        project_id=project_id,
        action=filters["action"],
        actor=filters["actor"],
        since=_day_start(filters["since"]),
        until=_day_start(filters["until"], plus_days=1),
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    page.object_list = with_reference_names(page.object_list)
    return render(
        request,
        "console/audit.html",
        {
            "scope": scope,
            "section": "audit",
            "page": page,
            "filters": filters,
            "projects": scope.projects().order_by("name"),
            "actions": [*AuditAction.choices, *AccountAction.choices],
            "qs": _qs(request),
        },
    )
