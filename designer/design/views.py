"""The designer page, its panes (htmx partials) and the dialogs: connection, activity wizard,
"Add to operation...". Thin over ``services`` and ``canvas``.

Changes answer with a short message for ``#designer-flash`` and the ``designer-changed`` event,
on which the palette, the canvas and the Components pane reload themselves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from connectors.base import ActivityType, Connector
from connectors.registry import get_connector
from designer.crypto import decrypt_json
from designer.design import canvas, services
from designer.design.forms import ActivityForm, ConnectionForm, RenameForm
from designer.design.models import Activity, Connection, Operation, Transformation
from designer.design.schema_tree import schema_tree
from designer.design.selectors import designer_data, used_activity_ids
from designer.design.versioning import StaleVersion
from designer.projects.access import Capability, ProjectAccess, project_view
from designer.projects.models import Role

PANES = {"palette", "canvas", "components"}
OAUTH_OUTCOME_KEY = "design.oauth_outcome"
CHANGED = "designer-changed"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _context(request: HttpRequest, access: ProjectAccess, **extra: Any) -> dict[str, Any]:
    # role_label: read-only forms say which role keeps them read only.
    role_label = Role(access.role).label
    return {"access": access, "project": access.project, "role_label": role_label, **extra}


def _page_context(request: HttpRequest, access: ProjectAccess) -> dict[str, Any]:
    data = designer_data(access.project, request.user)
    return _context(request, access, data=data, used_ids=used_activity_ids(data.operations))


def _changed(response: HttpResponse) -> HttpResponse:
    """The response, with the event on which the palette, canvas and Components reload."""
    return trigger_client_event(response, CHANGED)


def _flash(
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
        _changed(response)
    if close_dialog:
        # The message goes to the page, not into the dialog that is closing. The dialog
        # closes only after the swap: htmx resolves the re-target from the element that sent
        # the request, which closing the dialog (emptying it) would take out of the page.
        retarget(response, "#designer-flash")
        reswap(response, "innerHTML")
        trigger_client_event(response, "close-dialog", after="settle")
    return response


def _connector_or_404(key: str) -> Connector:
    try:
        return get_connector(key)
    except KeyError:
        raise Http404("No such connector") from None


def _activity_type_or_404(connection: Connection, type_key: str) -> ActivityType:
    try:
        return connection.connector.activity_type(type_key)
    except KeyError:
        raise Http404("No such activity type") from None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _redirect_uri(request: HttpRequest, access: ProjectAccess, connection: Connection) -> str:
    path = reverse(
        "design:connection_oauth_callback",
        kwargs={"project_id": access.project.pk, "connection_id": connection.pk},
    )
    site = getattr(settings, "SITE_URL", "")
    return site.rstrip("/") + path if site else request.build_absolute_uri(path)


# --------------------------------------------------------------------------------------------
# The page and its panes
# --------------------------------------------------------------------------------------------


@project_view(Capability.VIEW)
@require_GET
def designer(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    context = _page_context(request, access)
    context["open_connection"] = _int(request.GET.get("connection"))
    return render(request, "design/designer.html", context)


@project_view(Capability.VIEW)
@require_GET
def pane(request: HttpRequest, access: ProjectAccess, pane: str) -> HttpResponse:
    if pane not in PANES:
        raise Http404("No such pane")
    return render(request, f"design/designer.html#{pane}", _page_context(request, access))


# --------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------


def _connection_form_response(
    request: HttpRequest,
    access: ProjectAccess,
    *,
    connector: Connector,
    form: ConnectionForm,
    connection: Connection | None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    oauth_applies = connection is not None and connector.oauth_applies(connection.config)
    # What the connection spent of the far side's limits today (no call is made).
    usage = services.connection_usage(connection) if connection else ""
    return render(
        request,
        "design/connection_form.html",
        _context(
            request,
            access,
            connector=connector,
            form=form,
            connection=connection,
            oauth_applies=oauth_applies,
            usage=usage,
            **extra,
        ),
        status=status,
    )


def _stored_secrets(connection: Connection | None) -> dict[str, Any]:
    return decrypt_json(connection.secrets_encrypted) if connection else {}


def _validate_connection(form: ConnectionForm, connector: Connector) -> bool:
    """Field checks and the connector's own (e.g. the URL allow-list), all shown at once."""
    form.is_valid()
    problems = connector.validate_connection(form.config())
    # A field that already failed its own check keeps that one message.
    form.add_errors({k: v for k, v in problems.items() if k not in form.errors})
    return not form.errors


@project_view(Capability.DESIGN)
@require_http_methods(["GET", "POST"])
def connection_new(request: HttpRequest, access: ProjectAccess, connector_key: str) -> HttpResponse:
    connector = _connector_or_404(connector_key)
    taken = Connection.objects.filter(project=access.project).values_list("name", flat=True)
    if request.method == "GET":
        form = ConnectionForm(
            connector=connector,
            stored_secrets={},
            initial={"name": services.unique_name(f"{connector.name} Endpoint", taken)},
        )
        return _connection_form_response(
            request, access, connector=connector, form=form, connection=None
        )
    form = ConnectionForm(request.POST, connector=connector, stored_secrets={})
    if _validate_connection(form, connector):
        try:
            connection = services.connection_create(
                project=access.project,
                connector_key=connector.key,
                name=form.cleaned_data["name"],
                config=form.config(),
                secrets=form.entered_secrets(),
                user=request.user,
            )
        except services.NameTaken as exc:
            form.add_error("name", exc.message)
        else:
            return _connection_saved(request, access, connector=connector, connection=connection)
    return _connection_form_response(
        request, access, connector=connector, form=form, connection=None, status=422
    )


def _connection(access: ProjectAccess, connection_id: int) -> Connection:
    return get_object_or_404(Connection, project=access.project, pk=connection_id)


def _connection_form(
    connection: Connection, data: Any = None, *, connector: Connector | None = None
) -> ConnectionForm:
    return ConnectionForm(
        data,
        connector=connector or connection.connector,
        stored_secrets=_stored_secrets(connection),
        values=connection.config,
        initial={"name": connection.name, "version": connection.version},
    )


def _connection_saved(
    request: HttpRequest, access: ProjectAccess, *, connector: Connector, connection: Connection
) -> HttpResponse:
    """The saved connection's form, as now stored, and the event that refreshes the panes."""
    response = _connection_form_response(
        request,
        access,
        connector=connector,
        form=_connection_form(connection, connector=connector),
        connection=connection,
        saved=True,
    )
    return _changed(response)


@project_view(Capability.VIEW)
@require_GET
def connection_detail(
    request: HttpRequest, access: ProjectAccess, connection_id: int
) -> HttpResponse:
    connection = _connection(access, connection_id)
    try:
        connector = connection.connector
    except KeyError:
        raise Http404("This endpoint's connector is not installed") from None
    outcome = request.session.get(OAUTH_OUTCOME_KEY)
    if outcome and outcome.get("connection") == connection.pk:
        del request.session[OAUTH_OUTCOME_KEY]
    else:
        outcome = None
    return _connection_form_response(
        request,
        access,
        connector=connector,
        form=_connection_form(connection),
        connection=connection,
        oauth_outcome=outcome,
    )


@project_view(Capability.DESIGN)
@require_POST
def connection_save(
    request: HttpRequest, access: ProjectAccess, connection_id: int
) -> HttpResponse:
    connection = _connection(access, connection_id)
    connector = connection.connector
    form = _connection_form(connection, request.POST)
    if _validate_connection(form, connector):
        try:
            services.connection_update(
                connection=connection,
                expected_version=form.cleaned_data["version"] or 0,
                name=form.cleaned_data["name"],
                config=form.config(),
                secrets=form.entered_secrets(),
                cleared=form.cleared_secrets(),
                user=request.user,
            )
        except services.NameTaken as exc:
            form.add_error("name", exc.message)
        except StaleVersion as exc:
            form.add_error(None, exc.message)
        else:
            return _connection_saved(request, access, connector=connector, connection=connection)
    return _connection_form_response(
        request, access, connector=connector, form=form, connection=connection, status=422
    )


@project_view(Capability.DESIGN)
@require_POST
def connection_test(
    request: HttpRequest, access: ProjectAccess, connection_id: int
) -> HttpResponse:
    connection = _connection(access, connection_id)
    result = services.connection_test(connection=connection, user=request.user)
    connection.refresh_from_db()
    context = _context(
        request,
        access,
        connection=connection,
        result=result,
        outcome_label=str(result.outcome).replace("_", " ").capitalize(),
    )
    response = render(request, "design/connection_form.html#test-result", context)
    # The form's status box follows the outcome too (out of band), as the palette does on
    # the designer-changed event: every place that shows the status agrees.
    status_box = render(request, "design/connection_form.html#status", {**context, "oob": True})
    response.content += status_box.content
    return _changed(response)


@project_view(Capability.DESIGN)
@require_POST
def connection_oauth_start(
    request: HttpRequest, access: ProjectAccess, connection_id: int
) -> HttpResponse:
    connection = _connection(access, connection_id)
    if not connection.connector.supports_oauth:
        raise Http404("This connector does not use OAuth2")
    errors = connection.connector.validate_connection(connection.config)
    if errors:
        messages.error(
            request,
            "Can't start the sign-in: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
        )
        return redirect(_designer_with(access, connection))
    url = services.connection_oauth_start(
        connection=connection,
        user=request.user,
        session=request.session,
        redirect_uri=_redirect_uri(request, access, connection),
    )
    return HttpResponseRedirect(url)


def _designer_with(access: ProjectAccess, connection: Connection) -> str:
    path = reverse("design:designer", kwargs={"project_id": access.project.pk})
    return f"{path}?connection={connection.pk}"


@project_view(Capability.DESIGN)
@require_GET
def connection_oauth_callback(
    request: HttpRequest, access: ProjectAccess, connection_id: int
) -> HttpResponse:
    connection = _connection(access, connection_id)
    authorised, message = services.connection_oauth_complete(
        connection=connection,
        user=request.user,
        session=request.session,
        params=request.GET.dict(),
        redirect_uri=_redirect_uri(request, access, connection),
    )
    # Shown in the connection form, which the designer page reopens on the way back.
    request.session[OAUTH_OUTCOME_KEY] = {
        "connection": connection.pk,
        "ok": authorised,
        "message": message,
    }
    return redirect(_designer_with(access, connection))


# --------------------------------------------------------------------------------------------
# Activities: the wizard (step 1 settings, step 2 schemas); nothing is saved until Finished
# --------------------------------------------------------------------------------------------


def _wizard(
    request: HttpRequest,
    access: ProjectAccess,
    *,
    connection: Connection,
    type_key: str,
    activity: Activity | None,
) -> HttpResponse:
    kind = _activity_type_or_404(connection, type_key)
    post_url = (
        reverse("design:activity_edit", args=[access.project.pk, activity.pk])
        if activity
        else reverse("design:activity_new", args=[access.project.pk, connection.pk, type_key])
    )
    context = _context(
        request, access, connection=connection, kind=kind, activity=activity, post_url=post_url
    )

    def step(number: int, form: ActivityForm, status: int = 200, **extra: Any) -> HttpResponse:
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
            taken = connection.activities.values_list("name", flat=True)
            form = ActivityForm(
                activity_type=kind, initial={"name": services.unique_name(kind.name, taken)}
            )
        return step(1, form)

    action = request.POST.get("action", "next")
    form = ActivityForm(request.POST, activity_type=kind)
    if action == "back" or not form.is_valid():
        return step(1, form, status=200 if action == "back" else 422)
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
        return _flash(request, access, f"Saved activity “{saved.name}”.", close_dialog=True)
    return step(1, form, status=422)


@project_view(Capability.DESIGN)
@require_http_methods(["GET", "POST"])
def activity_new(
    request: HttpRequest, access: ProjectAccess, connection_id: int, activity_type: str
) -> HttpResponse:
    connection = _connection(access, connection_id)
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


# --------------------------------------------------------------------------------------------
# Components: rename, duplicate, delete (the Components pane and the palette menus)
# --------------------------------------------------------------------------------------------

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
                return _flash(request, access, f"Not renamed: {errors}", ok=False)
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
                canvas.operation_rename(
                    operation=item, expected_version=version, name=name, user=user
                )
            else:
                services.transformation_rename(
                    transformation=item, expected_version=version, name=name, user=user
                )
            return _flash(request, access, f"Renamed “{old}” to “{name}”.")
        if action == "duplicate":
            if kind == "connection":
                copy = services.connection_duplicate(connection=item, user=user)
            elif kind == "activity":
                copy = canvas.activity_duplicate_on_canvas(
                    project=project, user=user, activity=item
                )
            elif kind == "operation":
                copy = canvas.operation_duplicate(project=project, user=user, operation=item)
            else:
                copy = services.transformation_duplicate(transformation=item, user=user)
            return _flash(request, access, f"Duplicated “{item.name}” as “{copy.name}”.")
        name = item.name
        if kind == "connection":
            services.connection_delete(connection=item)
        elif kind == "activity":
            services.activity_delete(activity=item)
        elif kind == "operation":
            canvas.operation_delete(project=project, user=user, operation=item)
        else:
            services.transformation_delete(transformation=item)
        return _flash(request, access, f"Deleted “{name}”.", close_dialog=kind == "connection")
    except (services.NameTaken, services.ComponentInUse, StaleVersion) as exc:
        return _flash(request, access, exc.message, ok=False)


# --------------------------------------------------------------------------------------------
# The canvas
# --------------------------------------------------------------------------------------------


def _optional(model: type, access: ProjectAccess, value: Any) -> Any:
    pk = _int(value)
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
    version = _int(post.get("version"))
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
            return _flash(request, access, f"Moved to “{placed.name}”.", close_dialog=True)
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
        return _flash(request, access, exc.message, ok=False)
    return _flash(request, access, f"Added to “{placed.name}”.", close_dialog=True)


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
        kind = _activity_type_or_404(connection, type_key)
        title, role = f"a new {kind.name} activity of “{connection.name}”", str(kind.role)
    else:
        raise Http404("Nothing to add")
    operations = Operation.objects.filter(project=access.project).select_related("source", "target")
    return render(
        request,
        "design/add_to_operation.html",
        _context(
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
    return _flash(request, access, f"Created “{operation.name}”.")


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
            expected_version=_int(request.POST.get("version")),
        )
    except (canvas.PlacementRefused, StaleVersion) as exc:
        return _flash(request, access, exc.message, ok=False)
    return _flash(request, access, f"Removed the {slot} from “{operation.name}”.")


@project_view(Capability.DESIGN)
@require_POST
def operation_add_transformation(
    request: HttpRequest, access: ProjectAccess, operation_id: int
) -> HttpResponse:
    operation = _operation(access, operation_id)
    canvas.operation_add_transformation(
        project=access.project, user=request.user, operation=operation
    )
    return _flash(request, access, f"Added a transformation to “{operation.name}”.")


@project_view(Capability.DESIGN)
@require_POST
def canvas_undo(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    label = canvas.canvas_undo(project=access.project, user=request.user)
    if label is None:
        return _flash(request, access, "Nothing to undo.", ok=False)
    return _flash(request, access, f"Undone: {label}.")
