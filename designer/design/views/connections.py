"""Connections (endpoints): the form, save, Test, and the OAuth2 sign-in round trip."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors.base import Connector
from connectors.registry import get_connector
from designer.crypto import decrypt_json
from designer.design import services
from designer.design.forms import ConnectionForm
from designer.design.models import Connection
from designer.design.versioning import StaleVersion
from designer.design.views.common import (
    base_context,
    changed,
    connection_or_404,
)
from designer.projects.access import Capability, ProjectAccess, project_view

OAUTH_OUTCOME_KEY = "design.oauth_outcome"


def _connector_or_404(key: str) -> Connector:
    try:
        return get_connector(key)
    except KeyError:
        raise Http404("No such connector") from None


def _redirect_uri(request: HttpRequest, access: ProjectAccess, connection: Connection) -> str:
    path = reverse(
        "design:connection_oauth_callback",
        kwargs={"project_id": access.project.pk, "connection_id": connection.pk},
    )
    site = getattr(settings, "SITE_URL", "")
    return site.rstrip("/") + path if site else request.build_absolute_uri(path)


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
        base_context(
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
    return changed(response)


@project_view(Capability.VIEW)
@require_GET
def connection_detail(
    request: HttpRequest, access: ProjectAccess, connection_id: int
) -> HttpResponse:
    connection = connection_or_404(access, connection_id)
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
    connection = connection_or_404(access, connection_id)
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
    connection = connection_or_404(access, connection_id)
    result = services.connection_test(connection=connection, user=request.user)
    connection.refresh_from_db()
    context = base_context(
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
    return changed(response)


@project_view(Capability.DESIGN)
@require_POST
def connection_oauth_start(
    request: HttpRequest, access: ProjectAccess, connection_id: int
) -> HttpResponse:
    connection = connection_or_404(access, connection_id)
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
    connection = connection_or_404(access, connection_id)
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
