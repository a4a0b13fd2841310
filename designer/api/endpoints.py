"""The token API's resources: projects, operations, runs, logs, failed records, schedules.

Thin: each view checks the token's scope (its ``auth``), reaches the project through
``api_project`` (the pages' access helper: outsiders 404, lacking role 403) and calls the
same services and selectors as the pages.
"""

from __future__ import annotations

import inspect

from django.conf import settings
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router
from ninja.pagination import CursorPagination, paginate

from designer.acting import acting_as
from designer.api import auth
from designer.api.auth import api_audit_unscoped, api_project
from designer.api.problems import ApiProblem
from designer.api.running import rerun_failed, start_run, started_answer, wait_for_end
from designer.api.schemas import (
    PROBLEM_SCHEMA,
    FailureOut,
    LogLineOut,
    OperationOut,
    ProjectOut,
    RunDetail,
    RunInput,
    RunOut,
    RunStarted,
    ScheduleOut,
    WorkflowOut,
)
from designer.design.models import Operation, Step, Workflow
from designer.projects.access import Capability
from designer.projects.models import Project
from designer.runs import schedules as schedule_services
from designer.runs import services as run_services
from designer.runs.models import OperationRun, RunStatus, RunTrigger, Schedule
from designer.runs.selectors import run_for_page, runs_for_log
from designer.runs.views import failures_download

router = Router()


PROBLEMS = {
    401: "No valid token (missing, unknown, revoked, expired, or its user deactivated)",
    403: "The token lacks the scope, or your role lacks the right in this project",
    404: "No such project for you, or no such object in it",
    422: "Invalid fields, named in errors[].field",
}
START_PROBLEMS = {
    409: "The operation can't run as it is, or is already queued",
    429: "Too many runs with their own records already waiting (Retry-After)",
}


def _documented(
    need: Capability | None,
    scope: str,
    problems: dict[int, str] | None = None,
    *,
    csv: bool = False,
) -> dict:
    """What a call needs and its error answers, in the OpenAPI document (the scope and the
    capability are read by the access sweep test)."""
    extra: dict = {"x-required-scope": scope}
    if need is not None:
        extra["x-required-capability"] = str(need)
    answers = {**PROBLEMS, **(problems or {})}
    extra["responses"] = {
        status: {
            "description": text,
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for status, text in answers.items()
    }
    if csv:
        extra["responses"][200] = {
            "description": "The failed records, flattened, with _error_key and _error_message",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    return extra


def _read_call(
    path: str,
    *,
    tags: list[str],
    need: Capability | None = Capability.VIEW,
    csv: bool = False,
    **kwargs,
):
    """A GET under the read scope, documented with what it needs and its error answers."""
    return router.get(
        path,
        auth=auth.read,
        tags=tags,
        openapi_extra=_documented(need, "read", csv=csv),
        **kwargs,
    )


def _run_call(
    path: str,
    *,
    tags: list[str],
    need: Capability = Capability.RUN,
    problems: dict[int, str] | None = None,
    **kwargs,
):
    """A POST under the run scope, documented with what it needs and its error answers."""
    return router.post(
        path,
        auth=auth.run,
        tags=tags,
        openapi_extra=_documented(need, "run", problems),
        **kwargs,
    )


MAX_WAIT = settings.API_MAX_WAIT_SECONDS
# The page's download view without its page guard: the API checks access itself first.
_failures_file = inspect.unwrap(failures_download)


class Cursor(CursorPagination):
    """Opaque ``cursor`` positions on the ordering's first field: always an id here (unique),
    so rows added meanwhile never shift or repeat a page."""


def _projects(user):
    return Project.objects.filter(memberships__user=user).annotate(role=F("memberships__role"))


def _operations(project_id: int):
    return (
        Operation.objects.filter(project_id=project_id)
        .select_related("api_trigger")
        .prefetch_related(
            Prefetch("steps", queryset=Step.objects.select_related("activity", "transformation"))
        )
    )


def _run(access, run_id: int) -> OperationRun:
    run = run_for_page(project=access.project, run_id=run_id)
    if run is None:
        raise ApiProblem(404, "No such run in this project.")
    return run


# ------------------------------------------------------------------------------- projects
@_read_call(
    "/projects",
    response=list[ProjectOut],
    tags=["projects"],
    url_name="projects",
    need=None,
)
@paginate(Cursor, ordering=("id",))
def list_projects(request: HttpRequest):
    """The projects the token's user is a member of, with their role."""
    return _projects(api_audit_unscoped(request))


@_read_call(
    "/projects/{int:project_id}",
    response=ProjectOut,
    tags=["projects"],
)
def get_project(request: HttpRequest, project_id: int):
    access = api_project(request, project_id, Capability.VIEW)
    return _projects(request.auth.user).get(pk=access.project.pk)


# ------------------------------------------------------------------------------ workflows
def _workflows(project_id: int):
    return Workflow.objects.filter(project_id=project_id).prefetch_related(
        Prefetch("operations", queryset=Operation.objects.only("pk", "workflow_id"))
    )


@_read_call(
    "/projects/{int:project_id}/workflows",
    response=list[WorkflowOut],
    tags=["workflows"],
)
@paginate(Cursor, ordering=("id",))
def list_workflows(request: HttpRequest, project_id: int):
    """The project's workflows (designer tabs; ``order`` is their order there)."""
    api_project(request, project_id, Capability.VIEW)
    return _workflows(project_id)


@_read_call(
    "/projects/{int:project_id}/workflows/{int:workflow_id}",
    response=WorkflowOut,
    tags=["workflows"],
)
def get_workflow(request: HttpRequest, project_id: int, workflow_id: int):
    api_project(request, project_id, Capability.VIEW)
    return get_object_or_404(_workflows(project_id), pk=workflow_id)


# ----------------------------------------------------------------------------- operations
@_read_call(
    "/projects/{int:project_id}/operations",
    response=list[OperationOut],
    tags=["operations"],
)
@paginate(Cursor, ordering=("id",))
def list_operations(request: HttpRequest, project_id: int, workflow_id: int | None = None):
    """Operations of the project, with their steps; ``workflow_id`` keeps one workflow's."""
    api_project(request, project_id, Capability.VIEW)
    operations = _operations(project_id)
    if workflow_id is not None:
        operations = operations.filter(workflow_id=workflow_id)
    return operations


@_read_call(
    "/projects/{int:project_id}/operations/{int:operation_id}",
    response=OperationOut,
    tags=["operations"],
)
def get_operation(request: HttpRequest, project_id: int, operation_id: int):
    api_project(request, project_id, Capability.VIEW)
    return get_object_or_404(_operations(project_id), pk=operation_id)


@_run_call(
    "/projects/{int:project_id}/operations/{int:operation_id}/runs",
    response={200: RunStarted, 202: RunStarted},
    tags=["runs"],
    problems=START_PROBLEMS,
)
def start(
    request: HttpRequest,
    project_id: int,
    operation_id: int,
    wait: int = Query(0, ge=0, le=MAX_WAIT, description="Seconds to wait for the run to end"),
):
    """Start a run. 202 with its status URL; with ``?wait=N``, 200 and the result if it
    ends within N seconds (else 202, still running): counts, failed records, and the
    records of the operation's last step (``response``)."""
    access = api_project(request, project_id, Capability.RUN)
    operation = get_object_or_404(Operation, project=access.project, pk=operation_id)
    run = start_run(
        operation=operation, trigger=RunTrigger.API, user=request.auth.user, keep_response=wait > 0
    )
    return started_answer(run, wait)


# ----------------------------------------------------------------------------------- runs
@_read_call(
    "/projects/{int:project_id}/runs",
    response=list[RunOut],
    tags=["runs"],
)
@paginate(Cursor, ordering=("-id",))
def list_runs(
    request: HttpRequest, project_id: int, operation_id: int | None = None, status: str = ""
):
    """Runs, newest first; filter by ``operation_id`` and ``status``."""
    access = api_project(request, project_id, Capability.VIEW)
    if status and status not in RunStatus.values:
        raise ApiProblem(
            422,
            "The request has invalid fields.",
            errors=[{"field": "status", "detail": f"one of {', '.join(RunStatus.values)}"}],
        )
    runs = runs_for_log(project=access.project, operation_id=operation_id, status=status)
    return runs.select_related("triggered_by")


@_read_call(
    "/projects/{int:project_id}/runs/{int:run_id}",
    response=RunDetail,
    tags=["runs"],
)
def get_run(
    request: HttpRequest,
    project_id: int,
    run_id: int,
    wait: int = Query(0, ge=0, le=MAX_WAIT, description="Seconds to wait for the run to end"),
):
    """The run's status and counters; once it has ended, its failed records too, and the
    records of its last step if it was started with ?wait=N (``response``)."""
    access = api_project(request, project_id, Capability.VIEW)
    run = _run(access, run_id)
    if wait:
        run = wait_for_end(run, wait)
    return run


@_read_call(
    "/projects/{int:project_id}/runs/{int:run_id}/log",
    response=list[LogLineOut],
    tags=["runs"],
)
@paginate(Cursor, ordering=("id",), page_size=500, max_page_size=2000)
def run_log(request: HttpRequest, project_id: int, run_id: int):
    """The operation log, oldest line first."""
    access = api_project(request, project_id, Capability.VIEW)
    return _run(access, run_id).log_lines.all()


@_read_call(
    "/projects/{int:project_id}/runs/{int:run_id}/failures",
    response=list[FailureOut],
    tags=["runs"],
)
@paginate(Cursor, ordering=("id",), page_size=500, max_page_size=5000)
def run_failures(request: HttpRequest, project_id: int, run_id: int):
    """Failed records in source order, each with its source record, error and the step it
    failed at."""
    access = api_project(request, project_id, Capability.VIEW)
    return _run(access, run_id).failures.select_related("step")


@_read_call(
    "/projects/{int:project_id}/runs/{int:run_id}/input",
    response=RunInput,
    tags=["runs"],
)
def run_input(request: HttpRequest, project_id: int, run_id: int):
    """The records the run was given instead of reading its source (an API trigger's body,
    or the failed records a re-run repeats); ``records`` is null for a run that read its
    source."""
    access = api_project(request, project_id, Capability.VIEW)
    records = (
        OperationRun.objects.filter(pk=_run(access, run_id).pk)
        .values_list("input_records", flat=True)
        .get()
    )
    return {"count": len(records) if records is not None else None, "records": records}


@_read_call(
    "/projects/{int:project_id}/runs/{int:run_id}/failures.csv",
    tags=["runs"],
    csv=True,
)
def run_failures_csv(request: HttpRequest, project_id: int, run_id: int) -> HttpResponse:
    """The same CSV as the run page's download (nested fields as dotted columns)."""
    access = api_project(request, project_id, Capability.VIEW)
    run = _run(access, run_id)
    return _failures_file(request, access, run.pk, "csv")


@_run_call(
    "/projects/{int:project_id}/runs/{int:run_id}/cancel",
    response=RunOut,
    tags=["runs"],
    problems={409: "The run has already ended"},
)
def cancel(request: HttpRequest, project_id: int, run_id: int):
    """Cancel: a Pending run at once, a Running one at its next batch. 409 if it ended."""
    access = api_project(request, project_id, Capability.RUN)
    run = _run(access, run_id)
    with acting_as(request.auth.user):
        if not run_services.run_cancel(run=run, user=request.auth.user):
            raise ApiProblem(409, "The run has already ended.")
    return _run(access, run_id)


@_run_call(
    "/projects/{int:project_id}/runs/{int:run_id}/rerun",
    response={202: RunStarted, 200: RunStarted},
    tags=["runs"],
    problems={**START_PROBLEMS, 409: "The run has no failed records"},
)
def rerun(
    request: HttpRequest,
    project_id: int,
    run_id: int,
    wait: int = Query(0, ge=0, le=MAX_WAIT),
):
    """Re-run the failed records of a run (409 if it has none)."""
    access = api_project(request, project_id, Capability.RUN)
    new_run = rerun_failed(run=_run(access, run_id), user=request.auth.user, keep_response=wait > 0)
    return started_answer(new_run, wait)


# ------------------------------------------------------------------------------ schedules
@_read_call(
    "/projects/{int:project_id}/schedules",
    response=list[ScheduleOut],
    tags=["schedules"],
)
@paginate(Cursor, ordering=("id",))
def list_schedules(request: HttpRequest, project_id: int, operation_id: int | None = None):
    access = api_project(request, project_id, Capability.VIEW)
    schedules = Schedule.objects.filter(project=access.project)
    if operation_id is not None:
        schedules = schedules.filter(operation_id=operation_id)
    return schedules


def _set_enabled(request: HttpRequest, project_id: int, schedule_id: int, enabled: bool):
    # Same capability as the page's Enable / Disable button.
    access = api_project(request, project_id, Capability.DESIGN)
    schedule = get_object_or_404(
        Schedule.objects.select_related("project", "operation"),
        project=access.project,
        pk=schedule_id,
    )
    with acting_as(request.auth.user):
        schedule_services.schedule_set_enabled(schedule=schedule, enabled=enabled)
    return schedule


@_run_call(
    "/projects/{int:project_id}/schedules/{int:schedule_id}/enable",
    response=ScheduleOut,
    tags=["schedules"],
    need=Capability.DESIGN,
)
def enable_schedule(request: HttpRequest, project_id: int, schedule_id: int):
    return _set_enabled(request, project_id, schedule_id, True)


@_run_call(
    "/projects/{int:project_id}/schedules/{int:schedule_id}/disable",
    response=ScheduleOut,
    tags=["schedules"],
    need=Capability.DESIGN,
)
def disable_schedule(request: HttpRequest, project_id: int, schedule_id: int):
    return _set_enabled(request, project_id, schedule_id, False)
