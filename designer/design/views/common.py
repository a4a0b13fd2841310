"""What the designer's views share: the template context, and the answer to a change (a flash
message and the ``designer-changed`` event on which the palette, canvas and Components reload).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django_htmx.http import push_url, reswap, retarget, trigger_client_event

from connectors.base import ActivityType
from designer.design.models import Connection
from designer.design.selectors import designer_data
from designer.projects.access import ProjectAccess
from designer.projects.models import Role

CHANGED = "designer-changed"


def base_context(request: HttpRequest, access: ProjectAccess, **extra: Any) -> dict[str, Any]:
    # role_label: read-only forms say which role keeps them read only.
    role_label = Role(access.role).label
    return {"access": access, "project": access.project, "role_label": role_label, **extra}


def shown_workflow(request: HttpRequest) -> str | None:
    """The workflow (tab) the request was made from: the board shows one at a time."""
    return request.POST.get("workflow") or request.GET.get("workflow")


def page_context(request: HttpRequest, access: ProjectAccess) -> dict[str, Any]:
    data = designer_data(access.project, request.user, shown_workflow(request))
    return base_context(request, access, data=data)


def board_answer(
    request: HttpRequest,
    access: ProjectAccess,
    message: str,
    *,
    ok: bool = True,
    panes: bool = False,
    workflow: Any = None,
) -> HttpResponse:
    """One answer per board edit: the message, and out of band the board as it now is (and,
    with ``panes``, the palette and the Components pane, e.g. after operations come or go).
    The page makes no further request."""
    if not request.htmx:
        (messages.success if ok else messages.error)(request, message)
        url = reverse("design:designer", args=[access.project.pk])
        chosen = workflow.pk if workflow is not None else shown_workflow(request)
        return redirect(f"{url}?workflow={chosen}" if chosen else url)
    if workflow is not None:
        data = designer_data(access.project, request.user, workflow.pk)
        context = base_context(request, access, data=data)
    else:
        context = page_context(request, access)
    context.update(message=message, ok=ok, oob=True, panes=panes)
    response = render(request, "design/board_answer.html", context)
    if workflow is not None:
        # The tab shown is part of the address (reload and Back keep it).
        push_url(
            response,
            reverse("design:designer", args=[access.project.pk]) + f"?workflow={workflow.pk}",
        )
    return response


def changed(response: HttpResponse) -> HttpResponse:
    """The response, with the event on which the palette, canvas and Components reload."""
    return trigger_client_event(response, CHANGED)


def flash(
    request: HttpRequest,
    access: ProjectAccess,
    message: str,
    *,
    ok: bool = True,
    close_dialog: bool = False,
) -> HttpResponse:
    """The answer to a change: a message, and (on success) the event that refreshes panes."""
    if not request.htmx:
        (messages.success if ok else messages.error)(request, message)
        return redirect("design:designer", project_id=access.project.pk)
    response = render(
        request,
        "design/designer.html#flash",
        {"message": message, "ok": ok, "project": access.project},
    )
    if ok:
        changed(response)
    if close_dialog:
        # The message goes to the page, not into the dialog that is closing. The dialog
        # closes only after the swap: htmx resolves the re-target from the element that sent
        # the request, which closing the dialog (emptying it) would take out of the page.
        retarget(response, "#designer-flash")
        reswap(response, "innerHTML")
        trigger_client_event(response, "close-dialog", after="settle")
    return response


def connection_or_404(access: ProjectAccess, connection_id: int) -> Connection:
    """One of the project's own connections: the ones it may edit, test and authorise."""
    return get_object_or_404(Connection, project=access.project, pk=connection_id)


def usable_connection_or_404(access: ProjectAccess, connection_id: Any) -> Connection:
    """A connection the project may build activities on: its own, or a global endpoint shared
    with it (issue 12), seen from the project so new activities belong to it."""
    connection = get_object_or_404(Connection.objects.usable_by(access.project), pk=connection_id)
    return connection.seen_from(access.project)


def activity_type_or_404(connection: Connection, type_key: str) -> ActivityType:
    try:
        return connection.connector.activity_type(type_key)
    except KeyError:
        raise Http404("No such activity type") from None


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def optional_or_404(model: type, access: ProjectAccess, value: Any) -> Any:
    """The project's ``model`` row whose id is ``value``; None when no id is given."""
    pk = int_or_none(value)
    if pk is None:
        return None
    if model is Connection:  # placing a new activity: global endpoints shared with it too
        return usable_connection_or_404(access, pk)
    return get_object_or_404(model, project=access.project, pk=pk)
