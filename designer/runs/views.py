"""Run, watch, cancel and configure operation runs. Thin: the work is in services."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh, trigger_client_event

from connectors.files.tabular import cell, columns_of, csv_for_people, flatten
from designer.design import integrations
from designer.design.models import Operation
from designer.projects.access import Capability, ProjectAccess, project_view
from designer.runs import schedules as schedule_services
from designer.runs import services
from designer.runs.forms import DebugForm, RunSettingsForm, ScheduleForm
from designer.runs.models import OperationRun, RunResponse, RunStatus, RunTrigger, Schedule
from designer.runs.selectors import (
    last_run_of,
    queue_has_online_agent,
    run_for_page,
    runs_for_log,
    step_rows,
)

FAILURES_ON_PAGE = 500
RESPONSE_ROWS_ON_PAGE = 200  # the JSON beside the table has every kept record
RESPONSE_TABLE_COLUMNS = 40  # wider records read better as JSON only


def _operation(access: ProjectAccess, operation_id: int) -> Operation:
    return get_object_or_404(Operation, project=access.project, pk=operation_id)


def _run(access: ProjectAccess, run_id: int) -> OperationRun:
    run = run_for_page(project=access.project, run_id=run_id)
    if run is None:
        from django.http import Http404

        raise Http404("No such run")
    return run


def _status_context(access: ProjectAccess, run: OperationRun) -> dict[str, Any]:
    # A Pending run on a group no agent consumes would wait silently: say so.
    no_agent = run.status == RunStatus.PENDING and not queue_has_online_agent(run.queue)
    return {"access": access, "project": access.project, "run": run, "no_agent": no_agent}


# --------------------------------------------------------------------------------- running
@project_view(Capability.RUN)
@require_POST
def start(request: HttpRequest, access: ProjectAccess, operation_id: int) -> HttpResponse:
    operation = _operation(access, operation_id)
    try:
        run = services.run_start(operation=operation, trigger=RunTrigger.MANUAL, user=request.user)
    except services.RunRefused as exc:
        if request.htmx:
            # 409: a run of it is already waiting (a conflict with the queue's state).
            return render(
                request,
                "runs/_status.html#run-refused",
                {"message": str(exc), "operation": operation},
                status=409 if isinstance(exc, services.RunsWaiting) else 400,
            )
        messages.error(request, str(exc))
        return redirect("design:designer", access.project.pk)
    if request.htmx:
        # Styles come with it: the canvas page doesn't load the runs stylesheet itself.
        response = render(request, "runs/_status.html#run-started", _status_context(access, run))
        return trigger_client_event(response, "runs-changed")  # lists on the page refresh
    return redirect("runs:detail", access.project.pk, run.pk)


@project_view(Capability.VIEW)
@require_GET
def run_status(request: HttpRequest, access: ProjectAccess, run_id: int) -> HttpResponse:
    """The small live status panel (htmx polls it while the run is active). On the run's own
    page (``?page=1``) the end of the run reloads the page: counters, failures, buttons."""
    run = _run(access, run_id)
    if request.htmx and request.GET.get("page") and run.is_final:
        return HttpResponseClientRefresh()
    context = {**_status_context(access, run), "on_run_page": bool(request.GET.get("page"))}
    response = render(request, "runs/_status.html#run-status", context)
    return trigger_client_event(response, "runs-changed") if run.is_final else response


@project_view(Capability.VIEW)
@require_GET
def last_run_badge(request: HttpRequest, access: ProjectAccess, operation_id: int) -> HttpResponse:
    """An operation card's last-run badge: the canvas refreshes it when runs change (a run
    started or ended), so the card agrees with the run's own panel."""
    operation = _operation(access, operation_id)
    context = {
        "project": access.project,
        "operation": operation,
        "last_run": last_run_of(operation),
    }
    return render(request, "runs/_status.html#last-run-badge", context)


@project_view(Capability.VIEW)
@require_GET
def run_detail(request: HttpRequest, access: ProjectAccess, run_id: int) -> HttpResponse:
    run = _run(access, run_id)
    if request.htmx and request.GET.get("part") == "log":
        return render(
            request, "runs/run_detail.html#run-log", {**_status_context(access, run), **_log(run)}
        )
    if request.htmx and request.GET.get("part") == "steps":
        return render(
            request,
            "runs/run_detail.html#run-steps",
            {**_status_context(access, run), "step_rows": step_rows(run)},
        )
    context = {
        **_status_context(access, run),
        "on_run_page": True,
        **_log(run),
        "failures": run.failures.select_related("step")[:FAILURES_ON_PAGE],
        "failures_shown": FAILURES_ON_PAGE,
        "debug_samples": [
            (sample, _json_text(sample.request_body), _json_text(sample.response_body))
            for sample in run.debug_samples.all()[:100]
        ],
        "output_file_url": _output_file_url(run),
        "response": _response(run),
        "step_rows": step_rows(run),
        "actions_started": run.children.filter(trigger=RunTrigger.ACTION).select_related(
            "operation"
        ),
    }
    return render(request, "runs/run_detail.html", context)


def _json_text(value: Any) -> str | None:
    """A debug sample's body as people read JSON (not Python's repr), or None."""
    if value is None:
        return None
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _response(run: OperationRun) -> dict[str, Any] | None:
    """The records a synchronous run answered with, as kept (already redacted by the ledger),
    as table rows and as JSON; None for a run that didn't ask for them."""
    kept = RunResponse.objects.filter(run_id=run.pk).first()
    if kept is None:
        return None
    records = kept.records or []
    flat = [flatten(record) for record in records[:RESPONSE_ROWS_ON_PAGE]]
    columns = columns_of(flat)
    if len(columns) > RESPONSE_TABLE_COLUMNS:
        columns, flat = [], []
    return {
        "count": kept.count,
        "kept": len(records),
        "truncated": kept.truncated,
        "columns": columns,
        "rows": [[cell(item.get(column, "")) for column in columns] for item in flat],
        "json": _json_text(records) if records else "",
    }


def _output_file_url(run: OperationRun) -> str | None:
    """The file the run's target wrote, if the app serving that connector links to files."""
    target = run.operation.target
    if not run.output_file or target is None:
        return None
    return integrations.connection_file_url(target.connection, run.output_file)


def _log(run: OperationRun) -> dict[str, Any]:
    return {"log_lines": run.log_lines.all()[:2000]}


@project_view(Capability.RUN)
@require_POST
def run_cancel(request: HttpRequest, access: ProjectAccess, run_id: int) -> HttpResponse:
    run = _run(access, run_id)
    if not services.run_cancel(run=run, user=request.user):
        messages.info(request, "The run had already ended.")
    run.refresh_from_db()
    if request.htmx:
        return render(request, "runs/_status.html#run-status", _status_context(access, run))
    return redirect("runs:detail", access.project.pk, run.pk)


@project_view(Capability.RUN)
@require_POST
def run_rerun(request: HttpRequest, access: ProjectAccess, run_id: int) -> HttpResponse:
    run = _run(access, run_id)
    try:
        new_run = services.run_rerun_failed(run=run, user=request.user)
    except services.RunRefused as exc:
        messages.error(request, str(exc))
        return redirect("runs:detail", access.project.pk, run.pk)
    return redirect("runs:detail", access.project.pk, new_run.pk)


@project_view(Capability.VIEW)
@require_GET
def failures_download(
    request: HttpRequest, access: ProjectAccess, run_id: int, fmt: str
) -> HttpResponse:
    """The failed records in the source's shape, as JSON (exact) or CSV (flattened)."""
    run = _run(access, run_id)
    if fmt not in {"csv", "json"}:
        from django.http import Http404

        raise Http404("Unknown format")
    rows = list(
        run.failures.values(
            "index", "key", "error_key", "error_message", "record", "step_name", "step__kind"
        )
    )
    filename = f"run-{run.pk}-failed-records.{fmt}"
    if fmt == "json":
        body = json.dumps([row["record"] for row in rows], indent=2, default=str)
        response = HttpResponse(body, content_type="application/json")
    else:
        # The Files writer's flattener, and formulas neutralised: this file is for people.
        flat = [flatten(row["record"]) if row["record"] is not None else {} for row in rows]
        columns = columns_of(flat)
        # The step each record failed at: its name as it was then, and its kind while the
        # step exists (a step deleted since keeps only its name).
        body = csv_for_people(
            [*columns, "_step", "_step_kind", "_error_key", "_error_message"],
            (
                [item.get(c, "") for c in columns]
                + [row["step_name"], row["step__kind"] or ""]
                + [row["error_key"], row["error_message"]]
                for item, row in zip(flat, rows, strict=True)
            ),
        )
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ------------------------------------------------------------------------------------ logs
def _log_page(request: HttpRequest, access: ProjectAccess, operation: Operation | None):
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()
    runs = runs_for_log(
        project=access.project,
        operation_id=operation.pk if operation else None,
        status=status,
        query=query,
    )
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    context = {
        "access": access,
        "project": access.project,
        "operation": operation,
        "page": page,
        "status": status,
        "q": query,
        "statuses": RunStatus.choices,
        "any_active": any(run.is_active for run in page),
    }
    if operation is not None:
        context["schedules"] = [
            (s, schedule_services.next_run_at(s)) for s in operation.schedules.all()
        ]
    if request.htmx and request.GET.get("part") == "table":
        return render(request, "runs/log.html#runs-table", context)
    return render(request, "runs/log.html", context)


@project_view(Capability.VIEW)
@require_GET
def project_log(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    return _log_page(request, access, None)


@project_view(Capability.VIEW)
@require_GET
def operation_log(request: HttpRequest, access: ProjectAccess, operation_id: int) -> HttpResponse:
    return _log_page(request, access, _operation(access, operation_id))


# -------------------------------------------------------------------- operation settings
def _settings_page(request, access, operation, **forms) -> HttpResponse:
    settings_form = forms.get("settings_form") or RunSettingsForm(
        operation=operation,
        initial={
            "on_success": operation.on_success_id,
            "on_fail": operation.on_fail_id,
            "on_complete": operation.on_complete_id,
            "timeout_minutes": max(1, operation.timeout_seconds // 60),
            "on_agent_lost": operation.on_agent_lost,
        },
    )
    debug_form = forms.get("debug_form") or DebugForm(
        initial={"debug_until": operation.debug_until}
    )
    schedule_form = forms.get("schedule_form") or ScheduleForm()
    context = {
        "access": access,
        "project": access.project,
        "operation": operation,
        "settings_form": settings_form,
        "debug_form": debug_form,
        "schedule_form": schedule_form,
        "schedules": [(s, schedule_services.next_run_at(s)) for s in operation.schedules.all()],
    }
    status = 400 if any(f.is_bound and f.errors for f in forms.values()) else 200
    return render(request, "runs/operation_settings.html", context, status=status)


@project_view(Capability.DESIGN)
def operation_settings(
    request: HttpRequest, access: ProjectAccess, operation_id: int
) -> HttpResponse:
    operation = _operation(access, operation_id)
    if request.method != "POST":
        return _settings_page(request, access, operation)
    form = RunSettingsForm(request.POST, operation=operation)
    if form.is_valid():
        try:
            services.operation_update_run_settings(
                operation=operation,
                on_success=form.cleaned_data["on_success"],
                on_fail=form.cleaned_data["on_fail"],
                on_complete=form.cleaned_data["on_complete"],
                timeout_seconds=form.cleaned_data["timeout_minutes"] * 60,
                on_agent_lost=form.cleaned_data["on_agent_lost"],
                user=request.user,
            )
        except services.RunRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Run settings saved.")
            return redirect("runs:settings", access.project.pk, operation.pk)
    return _settings_page(request, access, operation, settings_form=form)


@project_view(Capability.DESIGN)
@require_POST
def operation_debug(request: HttpRequest, access: ProjectAccess, operation_id: int) -> HttpResponse:
    operation = _operation(access, operation_id)
    form = DebugForm(request.POST)
    if form.is_valid():
        try:
            services.operation_set_debug(
                operation=operation, until=form.cleaned_data["debug_until"], user=request.user
            )
        except services.RunRefused as exc:
            form.add_error("debug_until", str(exc))
        else:
            until = form.cleaned_data["debug_until"]
            messages.success(
                request,
                f"Debug logging on until {until:%Y-%m-%d %H:%M}."
                if until
                else "Debug logging off.",
            )
            return redirect("runs:settings", access.project.pk, operation.pk)
    return _settings_page(request, access, operation, debug_form=form)


@project_view(Capability.DESIGN)
@require_POST
def schedule_create(request: HttpRequest, access: ProjectAccess, operation_id: int) -> HttpResponse:
    operation = _operation(access, operation_id)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            schedule_services.schedule_save(
                operation=operation,
                cron=form.cleaned_data["cron"],
                tz=form.cleaned_data["timezone"],
                enabled=form.cleaned_data["enabled"],
                user=request.user,
            )
        except services.RunRefused as exc:
            form.add_error("cron", str(exc))
        else:
            messages.success(request, "Schedule added.")
            return redirect("runs:settings", access.project.pk, operation.pk)
    return _settings_page(request, access, operation, schedule_form=form)


def _schedule(access: ProjectAccess, schedule_id: int) -> Schedule:
    return get_object_or_404(
        Schedule.objects.select_related("operation", "project"),
        project=access.project,
        pk=schedule_id,
    )


@project_view(Capability.DESIGN)
@require_POST
def schedule_toggle(request: HttpRequest, access: ProjectAccess, schedule_id: int) -> HttpResponse:
    schedule = _schedule(access, schedule_id)
    schedule_services.schedule_set_enabled(schedule=schedule, enabled=not schedule.enabled)
    messages.success(request, "Schedule enabled." if schedule.enabled else "Schedule disabled.")
    return redirect(reverse("runs:settings", args=[access.project.pk, schedule.operation_id]))


@project_view(Capability.DESIGN)
@require_POST
def schedule_remove(request: HttpRequest, access: ProjectAccess, schedule_id: int) -> HttpResponse:
    schedule = _schedule(access, schedule_id)
    operation_id = schedule.operation_id
    schedule_services.schedule_delete(schedule=schedule)
    messages.success(request, "Schedule deleted.")
    return redirect("runs:settings", access.project.pk, operation_id)
