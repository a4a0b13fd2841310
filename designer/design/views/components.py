"""Components: rename, duplicate, delete (the Components pane and the palette menus)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from designer.design import board, operations, services, undo
from designer.design.forms import RenameForm
from designer.design.models import Activity, Connection, Operation, Transformation
from designer.design.versioning import StaleVersion
from designer.design.views.common import flash
from designer.projects.access import Capability, ProjectAccess, project_view

COMPONENTS: dict[str, type] = {
    "connection": Connection,
    "activity": Activity,
    "operation": Operation,
    "transformation": Transformation,
}


@project_view(Capability.DESIGN)
@require_POST
def component_action(
    request: HttpRequest, access: ProjectAccess, kind: str, component_id: int, action: str
) -> HttpResponse:
    model = COMPONENTS.get(kind)
    if model is None or action not in ("rename", "duplicate", "delete"):
        raise Http404("No such component action")
    item = get_object_or_404(model, project=access.project, pk=component_id)
    user = request.user
    project = access.project
    try:
        if action == "rename":
            form = RenameForm(request.POST)
            if not form.is_valid():
                errors = "; ".join(e for errs in form.errors.values() for e in errs)
                return flash(request, access, f"Not renamed: {errors}", ok=False)
            name = form.cleaned_data["name"]
            version = form.cleaned_data["version"]
            old = item.name
            if kind == "connection":
                services.connection_update(
                    connection=item,
                    expected_version=version if version is not None else item.version,
                    name=name,
                    config=item.config,
                    secrets={},
                    user=user,
                )
            elif kind == "activity":
                services.activity_rename(
                    activity=item, expected_version=version, name=name, user=user
                )
            elif kind == "operation":
                operations.operation_rename(
                    operation=item, expected_version=version, name=name, user=user
                )
            else:
                services.transformation_rename(
                    transformation=item, expected_version=version, name=name, user=user
                )
            return flash(request, access, f"Renamed “{old}” to “{name}”.")
        if action == "duplicate":
            if kind == "connection":
                copy = services.connection_duplicate(connection=item, user=user)
            elif kind == "activity":
                with undo.recorded(
                    project=project, user=user, label=f"Duplicate “{item.name}”"
                ) as change:
                    copy = services.activity_duplicate(activity=item, user=user)
                    change.created(copy)
            elif kind == "operation":
                # With its steps, as the board's Duplicate copies it.
                (copy,) = board.copy_operations(
                    project=project, user=user, ops=[item], workflow=item.workflow, verb="Duplicate"
                )
            else:
                copy = services.transformation_duplicate(transformation=item, user=user)
            return flash(request, access, f"Duplicated “{item.name}” as “{copy.name}”.")
        name = item.name
        if kind == "connection":
            services.connection_delete(connection=item)
        elif kind == "activity":
            services.activity_delete(activity=item)
        elif kind == "operation":
            board.delete_operations(project=project, user=user, ops=[item])
        else:
            services.transformation_delete(transformation=item)
        return flash(request, access, f"Deleted “{name}”.", close_dialog=kind == "connection")
    except (services.NameTaken, services.ComponentInUse, StaleVersion) as exc:
        return flash(request, access, exc.message, ok=False)
