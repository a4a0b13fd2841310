"""The canvas: placing activities into operations (drop, keyboard menu), operations, undo."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from designer.design import canvas
from designer.design.models import Activity, Connection, Operation
from designer.design.versioning import StaleVersion
from designer.design.views.common import (
    activity_type_or_404,
    base_context,
    flash,
    int_or_none,
)
from designer.projects.access import Capability, ProjectAccess, project_view


def _optional(model: type, access: ProjectAccess, value: Any) -> Any:
    pk = int_or_none(value)
    if pk is None:
        return None
    return get_object_or_404(model, project=access.project, pk=pk)


@project_view(Capability.DESIGN)
@require_POST
def canvas_drop(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """One endpoint for every placement: a palette drop, a step moved, the keyboard menu."""
    post = request.POST
    operation = _optional(Operation, access, post.get("operation"))
    slot = post.get("slot", "")
    version = int_or_none(post.get("version"))
    try:
        from_operation = _optional(Operation, access, post.get("from_operation"))
        if from_operation is not None:
            placed = canvas.operation_move_step(
                project=access.project,
                user=request.user,
                from_operation=from_operation,
                from_slot=post.get("from_slot", ""),
                to_operation=operation,
                to_slot=slot,
                expected_version=version,
            )
            return flash(request, access, f"Moved to “{placed.name}”.", close_dialog=True)
        placed = canvas.canvas_drop(
            project=access.project,
            user=request.user,
            activity=_optional(Activity, access, post.get("activity")),
            connection=_optional(Connection, access, post.get("connection")),
            activity_type=post.get("activity_type", ""),
            operation=operation,
            slot=slot,
            expected_version=version,
        )
    except (canvas.PlacementRefused, StaleVersion) as exc:
        return flash(request, access, exc.message, ok=False)
    return flash(request, access, f"Added to “{placed.name}”.", close_dialog=True)


@project_view(Capability.DESIGN)
@require_GET
def add_to_operation(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """The keyboard way to place: choose the operation (or a new one) and the place."""
    params = request.GET
    activity = _optional(Activity, access, params.get("activity"))
    connection = _optional(Connection, access, params.get("connection"))
    from_operation = _optional(Operation, access, params.get("from_operation"))
    type_key = params.get("activity_type", "")
    from_slot = params.get("from_slot", "")
    if from_operation is not None:
        moving = getattr(from_operation, from_slot, None) if from_slot in canvas.SLOTS else None
        if moving is None:
            raise Http404("Nothing to move")
        title, role = f"“{moving.name}”", from_slot
    elif activity is not None:
        title, role = f"“{activity.name}”", activity.role
    elif connection is not None:
        kind = activity_type_or_404(connection, type_key)
        title, role = f"a new {kind.name} activity of “{connection.name}”", str(kind.role)
    else:
        raise Http404("Nothing to add")
    operations = Operation.objects.filter(project=access.project).select_related("source", "target")
    return render(
        request,
        "design/add_to_operation.html",
        base_context(
            request,
            access,
            title=title,
            role=role,
            operations=operations,
            activity=activity,
            connection=connection,
            activity_type=type_key,
            from_operation=from_operation,
            from_slot=from_slot,
        ),
    )


def _operation(access: ProjectAccess, operation_id: int) -> Operation:
    return get_object_or_404(
        Operation.objects.select_related("source", "target"),
        project=access.project,
        pk=operation_id,
    )


@project_view(Capability.DESIGN)
@require_POST
def operation_new(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    operation = canvas.operation_create(project=access.project, user=request.user)
    return flash(request, access, f"Created “{operation.name}”.")


@project_view(Capability.DESIGN)
@require_POST
def operation_remove_step(
    request: HttpRequest, access: ProjectAccess, operation_id: int, slot: str
) -> HttpResponse:
    operation = _operation(access, operation_id)
    try:
        canvas.operation_remove_step(
            project=access.project,
            user=request.user,
            operation=operation,
            slot=slot,
            expected_version=int_or_none(request.POST.get("version")),
        )
    except (canvas.PlacementRefused, StaleVersion) as exc:
        return flash(request, access, exc.message, ok=False)
    return flash(request, access, f"Removed the {slot} from “{operation.name}”.")


@project_view(Capability.DESIGN)
@require_POST
def operation_add_transformation(
    request: HttpRequest, access: ProjectAccess, operation_id: int
) -> HttpResponse:
    operation = _operation(access, operation_id)
    canvas.operation_add_transformation(
        project=access.project, user=request.user, operation=operation
    )
    return flash(request, access, f"Added a transformation to “{operation.name}”.")


@project_view(Capability.DESIGN)
@require_POST
def canvas_undo(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    label = canvas.canvas_undo(project=access.project, user=request.user)
    if label is None:
        return flash(request, access, "Nothing to undo.", ok=False)
    return flash(request, access, f"Undone: {label}.")
