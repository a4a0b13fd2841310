"""Signed-in pages of the API app: the user's API tokens, an operation's API trigger."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from designer.api import tokens as token_services
from designer.api import triggers as trigger_services
from designer.api.forms import TokenForm, TriggerForm
from designer.api.models import ApiToken, ApiTrigger
from designer.api.problems import problem_response
from designer.design.models import Operation
from designer.projects.access import Capability, ProjectAccess, project_view


def api_not_found(request: HttpRequest) -> HttpResponse:
    return problem_response(404, f"No API endpoint at {request.path}; see /api/v1/docs.")


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """List, create (the token is shown once, on this answer only) and revoke."""
    form = TokenForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, raw = token_services.token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.cleaned_data["expires_at"],
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                created = {"token": token, "raw": raw}
                form = TokenForm()
        if created is None:
            status = 400
    context = {
        "form": form,
        "created": created,
        "tokens": ApiToken.objects.filter(user=request.user),
    }
    response = render(request, "api/tokens.html", context, status=status)
    if created is not None:
        response["Cache-Control"] = "no-store"  # the one page that shows the token
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if token_services.token_revoke(token=token):
        messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("api:tokens")


@project_view(Capability.DESIGN)
def trigger_settings(
    request: HttpRequest, access: ProjectAccess, operation_id: int
) -> HttpResponse:
    """Create the trigger, change its mode, rotate its secret, or remove it."""
    operation = get_object_or_404(Operation, project=access.project, pk=operation_id)
    trigger = ApiTrigger.objects.filter(operation=operation).first()
    shown = None
    form = TriggerForm(initial={"mode": trigger.mode if trigger else "secret_url"})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "delete" and trigger is not None:
            trigger_services.trigger_delete(trigger=trigger, user=request.user)
            messages.success(request, "API trigger removed; its URL no longer starts runs.")
            return redirect("api:trigger", access.project.pk, operation.pk)
        if action == "rotate" and trigger is not None:
            shown = trigger_services.trigger_rotate(trigger=trigger, user=request.user)
        else:
            form = TriggerForm(request.POST)
            if form.is_valid():
                trigger, shown = trigger_services.trigger_save(
                    operation=operation, mode=form.cleaned_data["mode"], user=request.user
                )
            else:
                status = 400
        trigger = ApiTrigger.objects.filter(operation=operation).first()
    context = {
        "access": access,
        "project": access.project,
        "operation": operation,
        "trigger": trigger,
        "form": form,
        "shown": shown,
        "shown_url": request.build_absolute_uri(shown.url_path) if shown else "",
    }
    response = render(request, "api/trigger.html", context, status=status)
    if shown is not None:
        response["Cache-Control"] = "no-store"
    return response
