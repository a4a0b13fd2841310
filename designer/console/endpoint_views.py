"""Global endpoints in the console (staff only): the list, the form (fields, credentials,
sharing), Test, Connect (OAuth2) and Delete. Thin views over ``endpoint_services``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors.base import Connector
from designer.console import endpoint_services as services
from designer.console.access import ConsoleScope, staff_view
from designer.crypto import decrypt_json
from designer.design import services as design_services
from designer.design.forms import ConnectionForm
from designer.design.models import Connection
from designer.design.versioning import StaleVersion
from designer.projects.models import Project


def _endpoint_or_404(connection_id: int) -> Connection:
    return get_object_or_404(Connection, pk=connection_id, is_global=True)


def _connector_or_404(key: str) -> Connector:
    try:
        return services.global_connector(key)
    except KeyError:
        raise Http404("No such connector") from None


def _form(connector: Connector, connection: Connection | None, data: Any = None) -> ConnectionForm:
    if connection is None:
        return ConnectionForm(
            data,
            connector=connector,
            stored_secrets={},
            initial={"name": f"{connector.name} (global)"},
        )
    return ConnectionForm(
        data,
        connector=connector,
        stored_secrets=decrypt_json(connection.secrets_encrypted),
        values=connection.config,
        initial={"name": connection.name, "version": connection.version},
    )


def _valid(form: ConnectionForm, connector: Connector) -> bool:
    """Field checks and the connector's own (e.g. the URL allow-list), all shown at once."""
    form.is_valid()
    problems = connector.validate_connection(form.config())
    form.add_errors({k: v for k, v in problems.items() if k not in form.errors})
    return not form.errors


def _sharing(request: HttpRequest) -> list[int] | None:
    """The chosen project ids, or None for "all projects"."""
    if request.POST.get("sharing", "all") != "chosen":
        return None
    ids = []
    for value in request.POST.getlist("shared_with"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return ids


def _form_page(
    request: HttpRequest,
    scope: ConsoleScope,
    *,
    connector: Connector,
    form: ConnectionForm,
    connection: Connection | None,
    sharing: tuple[bool, list[int]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """``sharing`` (all projects?, chosen ids) as posted; else as stored (new: all)."""
    if sharing is None:
        if connection is None:
            sharing = (True, [])
        else:
            chosen = list(connection.shared_with.values_list("pk", flat=True))
            sharing = (connection.shared_with_all, chosen)
    return render(
        request,
        "console/global_endpoint.html",
        {
            "scope": scope,
            "section": "endpoints",
            "connector": connector,
            "form": form,
            "connection": connection,
            "projects": Project.objects.order_by("name"),
            "chosen": set(sharing[1]),
            "share_all": sharing[0],
            "used_by": services.projects_using(connection) if connection else [],
            "oauth_applies": connection is not None and connector.oauth_applies(connection.config),
            "usage": design_services.connection_usage(connection) if connection else "",
        },
        status=status,
    )


@staff_view
@require_GET
def global_endpoints(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    endpoints = services.global_endpoint_rows()
    return render(
        request,
        "console/global_endpoints.html",
        {
            "scope": scope,
            "section": "endpoints",
            "endpoints": endpoints,
            "connectors": services.global_connectors(),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def global_endpoint_new(
    request: HttpRequest, scope: ConsoleScope, connector_key: str
) -> HttpResponse:
    connector = _connector_or_404(connector_key)
    if request.method == "GET":
        return _form_page(
            request, scope, connector=connector, form=_form(connector, None), connection=None
        )
    form = _form(connector, None, request.POST)
    chosen = _sharing(request)
    if _valid(form, connector):
        try:
            connection = services.global_endpoint_create(
                connector_key=connector.key,
                name=form.cleaned_data["name"],
                config=form.config(),
                secrets=form.entered_secrets(),
                shared_with=chosen,
                actor=request.user,
            )
        except services.GlobalEndpointError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Global endpoint “{connection.name}” saved: Test it.")
            return redirect("console:global_endpoint", connection_id=connection.pk)
    return _form_page(
        request,
        scope,
        connector=connector,
        form=form,
        connection=None,
        sharing=(chosen is None, chosen or []),
        status=422,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def global_endpoint(request: HttpRequest, scope: ConsoleScope, connection_id: int) -> HttpResponse:
    """GET: the form, with the projects that use it. POST: save it."""
    connection = _endpoint_or_404(connection_id)
    connector = _connector_or_404(connection.connector_key)
    if request.method == "GET":
        return _form_page(
            request,
            scope,
            connector=connector,
            form=_form(connector, connection),
            connection=connection,
        )
    form = _form(connector, connection, request.POST)
    chosen = _sharing(request)
    if _valid(form, connector):
        try:
            services.global_endpoint_update(
                connection=connection,
                expected_version=form.cleaned_data["version"] or 0,
                name=form.cleaned_data["name"],
                config=form.config(),
                secrets=form.entered_secrets(),
                cleared=form.cleared_secrets(),
                shared_with=chosen,
                actor=request.user,
            )
        except (services.GlobalEndpointError, StaleVersion) as error:
            form.add_error(None, getattr(error, "message", str(error)))
        else:
            messages.success(request, f"Global endpoint “{connection.name}” saved.")
            return redirect("console:global_endpoint", connection_id=connection.pk)
    return _form_page(
        request,
        scope,
        connector=connector,
        form=form,
        connection=connection,
        sharing=(chosen is None, chosen or []),
        status=422,
    )


@staff_view
@require_POST
def global_endpoint_test(
    request: HttpRequest, scope: ConsoleScope, connection_id: int
) -> HttpResponse:
    connection = _endpoint_or_404(connection_id)
    result = services.global_endpoint_test(connection=connection, actor=request.user)
    (messages.success if result.ok else messages.error)(
        request, f"{'Connected' if result.ok else 'Failed'}: {result.message}"
    )
    return redirect("console:global_endpoint", connection_id=connection.pk)


@staff_view
@require_POST
def global_endpoint_delete(
    request: HttpRequest, scope: ConsoleScope, connection_id: int
) -> HttpResponse:
    connection = _endpoint_or_404(connection_id)
    try:
        services.global_endpoint_delete(connection=connection, actor=request.user)
    except services.GlobalEndpointError as error:
        messages.error(request, str(error))
        connector = _connector_or_404(connection.connector_key)
        return _form_page(
            request,
            scope,
            connector=connector,
            form=_form(connector, connection),
            connection=connection,
            status=422,
        )
    messages.success(request, f"Global endpoint “{connection.name}” deleted.")
    return redirect("console:global_endpoints")


def _redirect_uri(request: HttpRequest, connection: Connection) -> str:
    path = reverse("console:global_endpoint_oauth_callback", args=[connection.pk])
    site = getattr(settings, "SITE_URL", "")
    return site.rstrip("/") + path if site else request.build_absolute_uri(path)


@staff_view
@require_POST
def global_endpoint_oauth_start(
    request: HttpRequest, scope: ConsoleScope, connection_id: int
) -> HttpResponse:
    """Connect: sign in at the far side (OAuth2 with PKCE), as a project's endpoint does."""
    connection = _endpoint_or_404(connection_id)
    connector = _connector_or_404(connection.connector_key)
    if not connector.supports_oauth:
        raise Http404("This connector does not use OAuth2")
    errors = connector.validate_connection(connection.config)
    if errors:
        messages.error(
            request,
            "Can't start the sign-in: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
        )
        return redirect("console:global_endpoint", connection_id=connection.pk)
    url = design_services.connection_oauth_start(
        connection=connection,
        user=request.user,
        session=request.session,
        redirect_uri=_redirect_uri(request, connection),
    )
    return HttpResponseRedirect(url)


@staff_view
@require_GET
def global_endpoint_oauth_callback(
    request: HttpRequest, scope: ConsoleScope, connection_id: int
) -> HttpResponse:
    connection = _endpoint_or_404(connection_id)
    authorised, message = services.global_endpoint_oauth_complete(
        connection=connection,
        actor=request.user,
        session=request.session,
        params=request.GET.dict(),
        redirect_uri=_redirect_uri(request, connection),
    )
    (messages.success if authorised else messages.error)(request, message)
    return redirect("console:global_endpoint", connection_id=connection.pk)
