"""Activities: the wizard (step 1 settings, step 2 schemas); nothing is saved until Finished."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors.base import ConnectorError
from designer.design import pickers, services
from designer.design.forms import ActivityForm
from designer.design.models import Activity, Connection
from designer.design.schema_tree import schema_tree
from designer.design.versioning import StaleVersion
from designer.design.views.common import (
    activity_type_or_404,
    base_context,
    flash,
    usable_connection_or_404,
)
from designer.projects.access import Capability, ProjectAccess, project_view


def _wizard(
    request: HttpRequest,
    access: ProjectAccess,
    *,
    connection: Connection,
    type_key: str,
    activity: Activity | None,
) -> HttpResponse:
    kind = activity_type_or_404(connection, type_key)
    post_url = (
        reverse("design:activity_edit", args=[access.project.pk, activity.pk])
        if activity
        else reverse("design:activity_new", args=[access.project.pk, connection.pk, type_key])
    )
    context = base_context(
        request, access, connection=connection, kind=kind, activity=activity, post_url=post_url
    )

    def step(number: int, form: ActivityForm, status: int = 200, **extra: Any) -> HttpResponse:
        pickers.attach(form, access.project.pk, connection)  # options from the account
        return render(
            request,
            "design/activity_wizard.html",
            {**context, "form": form, "step": number, **extra},
            status=status,
        )

    if request.method == "GET":
        if activity:
            initial = {"name": activity.name, "version": activity.version}
            form = ActivityForm(activity_type=kind, values=activity.config, initial=initial)
        else:
            # Names are the project's own on a shared global endpoint.
            taken = connection.activities.filter(project=access.project).values_list(
                "name", flat=True
            )
            form = ActivityForm(
                activity_type=kind, initial={"name": services.unique_name(kind.name, taken)}
            )
        return step(1, form)

    action = request.POST.get("action", "next")
    form = ActivityForm(request.POST, activity_type=kind)
    if action == "back" or not form.is_valid():
        return step(1, form, status=200 if action == "back" else 422)
    if action == "test":  # the settings against the account, nothing saved (issue 14)
        return _test(form, connection, kind.key, step)
    if action == "next":
        config = form.config()
        return step(
            2,
            form,
            request_tree=schema_tree(kind.request_schema(config), name="request"),
            response_tree=schema_tree(kind.response_schema(config), name="response"),
        )
    try:  # Finished
        if activity:
            saved = services.activity_update(
                activity=activity,
                expected_version=form.cleaned_data["version"] or 0,
                name=form.cleaned_data["name"],
                config=form.config(),
                user=request.user,
            )
        else:
            saved = services.activity_create(
                connection=connection,
                activity_type=type_key,
                name=form.cleaned_data["name"],
                config=form.config(),
                user=request.user,
            )
    except services.NameTaken as exc:
        form.add_error("name", exc.message)
    except StaleVersion as exc:
        form.add_error(None, exc.message)
    else:
        return flash(request, access, f"Saved activity “{saved.name}”.", close_dialog=True)
    return step(1, form, status=422)


def _test(
    form: ActivityForm, connection: Connection, type_key: str, step: Callable[..., HttpResponse]
) -> HttpResponse:
    """Step 1 again with what the Test found: an unknown id is the error of its field."""
    try:
        check = pickers.test_activity(connection, type_key, form.config())
    except ConnectorError as exc:
        form.add_error(None, f"Could not test against the account: {exc.message}")
        return step(1, form, status=422, testing=True)
    for name, message in check.errors.items():
        form.add_error(name if name in form.fields else None, message)
    return step(1, form, status=200 if check.ok else 422, test_check=check, testing=True)


@project_view(Capability.DESIGN)
@require_http_methods(["GET", "POST"])
def activity_new(
    request: HttpRequest, access: ProjectAccess, connection_id: int, activity_type: str
) -> HttpResponse:
    connection = usable_connection_or_404(access, connection_id)
    return _wizard(request, access, connection=connection, type_key=activity_type, activity=None)


def _activity_wizard(request: HttpRequest, access: ProjectAccess, activity_id: int) -> HttpResponse:
    """The wizard for an existing activity (shown by activity_detail, saved by activity_edit)."""
    activity = get_object_or_404(
        Activity.objects.select_related("connection"), project=access.project, pk=activity_id
    )
    return _wizard(
        request,
        access,
        connection=activity.connection,
        type_key=activity.activity_type,
        activity=activity,
    )


@project_view(Capability.VIEW)
@require_GET
def activity_detail(request: HttpRequest, access: ProjectAccess, activity_id: int) -> HttpResponse:
    return _activity_wizard(request, access, activity_id)


@project_view(Capability.DESIGN)
@require_POST
def activity_edit(request: HttpRequest, access: ProjectAccess, activity_id: int) -> HttpResponse:
    return _activity_wizard(request, access, activity_id)
