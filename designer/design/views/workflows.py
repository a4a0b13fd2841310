"""Workflows: the tabs above the canvas (create, rename, reorder, delete)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from designer.design import operations, undo
from designer.design.forms import RenameForm
from designer.design.models import Operation, Workflow
from designer.design.services import NameTaken
from designer.design.versioning import StaleVersion
from designer.design.views.common import board_answer
from designer.projects.access import Capability, ProjectAccess, project_view


def _workflow(access: ProjectAccess, workflow_id: int) -> Workflow:
    return get_object_or_404(Workflow, project=access.project, pk=workflow_id)


@project_view(Capability.DESIGN)
@require_POST
def workflow_new(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    with undo.recorded(project=access.project, user=request.user, label="Create") as change:
        workflow = operations.workflow_create(project=access.project, user=request.user)
        change.created(workflow)
        change.label = f"Create the workflow “{workflow.name}”"
    return board_answer(
        request, access, f"Created the workflow “{workflow.name}”.", workflow=workflow
    )


@project_view(Capability.DESIGN)
@require_POST
def workflow_rename(request: HttpRequest, access: ProjectAccess, workflow_id: int) -> HttpResponse:
    workflow = _workflow(access, workflow_id)
    form = RenameForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        return board_answer(request, access, f"Not renamed: {errors}", ok=False, workflow=workflow)
    old, name = workflow.name, form.cleaned_data["name"]
    try:
        with undo.recorded(
            project=access.project,
            user=request.user,
            label=f"Rename the workflow “{old}” to “{name}”",
        ) as change:
            change.track_workflows(workflow)
            operations.workflow_rename(
                workflow=workflow,
                user=request.user,
                name=name,
                expected_version=form.cleaned_data["version"],
            )
    except (NameTaken, StaleVersion) as exc:
        return board_answer(request, access, exc.message, ok=False, workflow=workflow)
    message = f"Renamed the workflow “{old}” to “{workflow.name}”."
    return board_answer(request, access, message, workflow=workflow)


@project_view(Capability.DESIGN)
@require_POST
def workflow_move(
    request: HttpRequest, access: ProjectAccess, workflow_id: int, direction: str
) -> HttpResponse:
    """Move a tab one place left or right."""
    if direction not in ("left", "right"):
        raise Http404("No such direction")
    workflow = _workflow(access, workflow_id)
    ids = list(Workflow.objects.filter(project=access.project).values_list("pk", flat=True))
    at = ids.index(workflow.pk)
    to = at - 1 if direction == "left" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        label = f"Move the workflow “{workflow.name}” {direction}"
        with undo.recorded(project=access.project, user=request.user, label=label) as change:
            change.track_workflows(*Workflow.objects.filter(project=access.project))
            operations.workflow_reorder(project=access.project, user=request.user, ids=ids)
    message = f"Moved the workflow “{workflow.name}” {direction}."
    return board_answer(request, access, message, workflow=workflow)


@project_view(Capability.DESIGN)
@require_POST
def workflow_delete(request: HttpRequest, access: ProjectAccess, workflow_id: int) -> HttpResponse:
    """Delete a workflow and its operations; Undo brings both back."""
    workflow = _workflow(access, workflow_id)
    name = workflow.name
    ops = list(Operation.objects.filter(workflow=workflow))
    try:
        with undo.recorded(
            project=access.project,
            user=request.user,
            label=f"Delete the workflow “{name}”",
            operations=ops,
        ) as change:
            change.track_workflows(workflow)  # an empty workflow comes back too
            operations.workflow_delete(workflow=workflow, user=request.user)
    except operations.PlacementRefused as exc:
        return board_answer(request, access, exc.message, ok=False, workflow=workflow)
    first = Workflow.objects.filter(project=access.project).first()
    return board_answer(
        request, access, f"Deleted the workflow “{name}”.", panes=True, workflow=first
    )
