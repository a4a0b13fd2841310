"""Console → Users (staff): create, invite, deactivate, reset links, staff; and the Outbox.

Thin over designer.accounts.services; every write is staff-only, POST-only and audited there.
A refused change comes back on the Users page with its reason and the form as typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from designer.accounts import services as accounts
from designer.accounts.forms import UserCreateForm, UserInviteForm
from designer.accounts.mail import MailError, outbox_messages
from designer.accounts.models import Invitation
from designer.console import selectors
from designer.console.access import ConsoleScope, console_view, staff_view


def users_page(
    request: HttpRequest, scope: ConsoleScope, *, status: int = 200, **extra: Any
) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    page = Paginator(selectors.users(scope=scope, query=query), 50).get_page(
        request.GET.get("page")
    )
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {
        "scope": scope,
        "section": "users",
        "page": page,
        "q": query,
        "qs": query_string.urlencode(),
        "invitations": selectors.invitations() if scope.is_staff else [],
        "create_form": UserCreateForm(),
        "invite_form": UserInviteForm(),
    }
    context.update(extra)
    return render(request, "console/users.html", context, status=status)


@console_view
def users(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    return users_page(request, scope)


def _refused(request: HttpRequest, scope: ConsoleScope, error: Exception, **forms: Any):
    messages.error(request, str(error))
    return users_page(request, scope, status=422, **forms)


def _done(request: HttpRequest, note: str) -> HttpResponse:
    messages.success(request, note)
    return redirect("console:users")


@staff_view
@require_POST
def user_create(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    form = UserCreateForm(request.POST)
    if not form.is_valid():
        return users_page(request, scope, status=422, create_form=form)
    data = form.cleaned_data
    try:
        user = accounts.user_create(
            username=data["username"],
            email=data["email"],
            password=data["password"] or None,
            is_staff=data["is_staff"],
            actor=request.user,
        )
    except accounts.AccountError as error:
        form.add_error(None, str(error))
        return users_page(request, scope, status=422, create_form=form)
    note = f"User {user.get_username()} created."
    if not data["password"]:
        note += f" A link to set a password was mailed to {user.email}."
    return _done(request, note)


@staff_view
@require_POST
def user_invite(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    form = UserInviteForm(request.POST)
    if not form.is_valid():
        return users_page(request, scope, status=422, invite_form=form)
    try:
        invitation = accounts.invitation_create(
            email=form.cleaned_data["email"],
            is_staff=form.cleaned_data["is_staff"],
            actor=request.user,
        )
    except accounts.AccountError as error:
        form.add_error("email", str(error))
        return users_page(request, scope, status=422, invite_form=form)
    return _invitation_outcome(request, invitation, "Invitation sent to")


def _invitation_outcome(request: HttpRequest, invitation: Invitation, verb: str) -> HttpResponse:
    # The mail goes out after commit, before this line: its outcome is on the row.
    invitation.refresh_from_db()
    if invitation.send_error:
        messages.error(
            request,
            f"The invitation of {invitation.email} is saved but the mail was not sent "
            f"({invitation.send_error}). Resend it once mail works.",
        )
        return redirect("console:users")
    return _done(request, f"{verb} {invitation.email}: the link is valid 7 days.")


def _invitation_action(
    action: Callable[..., Invitation], verb: str
) -> Callable[[HttpRequest, int], HttpResponse]:
    @staff_view
    @require_POST
    def view(request: HttpRequest, scope: ConsoleScope, invitation_id: int) -> HttpResponse:
        try:
            invitation = action(invitation_id=invitation_id, actor=request.user)
        except accounts.AccountError as error:
            return _refused(request, scope, error)
        if verb == "revoked":
            return _done(request, f"The invitation of {invitation.email} is revoked.")
        return _invitation_outcome(request, invitation, "Invitation sent again to")

    return view


invitation_resend = _invitation_action(accounts.invitation_resend, "resent")
invitation_revoke = _invitation_action(accounts.invitation_revoke, "revoked")


def _flag(request: HttpRequest) -> bool:
    return request.POST.get("value") == "1"


@staff_view
@require_POST
def user_active(request: HttpRequest, scope: ConsoleScope, user_id: int) -> HttpResponse:
    try:
        user = accounts.user_set_active(user_id=user_id, active=_flag(request), actor=request.user)
    except accounts.AccountError as error:
        return _refused(request, scope, error)
    if user.is_active:
        return _done(request, f"{user.get_username()} is active again.")
    return _done(request, f"{user.get_username()} is deactivated; their sessions have ended.")


@staff_view
@require_POST
def user_staff(request: HttpRequest, scope: ConsoleScope, user_id: int) -> HttpResponse:
    try:
        user = accounts.user_set_staff(user_id=user_id, is_staff=_flag(request), actor=request.user)
    except accounts.AccountError as error:
        return _refused(request, scope, error)
    state = "is now staff" if user.is_staff else "is no longer staff"
    return _done(request, f"{user.get_username()} {state}.")


@staff_view
@require_POST
def user_password_reset(request: HttpRequest, scope: ConsoleScope, user_id: int) -> HttpResponse:
    try:
        accounts.password_reset_send(user_id=user_id, actor=request.user)
    except (accounts.AccountError, MailError) as error:
        return _refused(request, scope, error)
    user = get_user_model().objects.get(pk=user_id)
    return _done(request, f"A password-reset link was mailed to {user.email}.")


@staff_view
def outbox(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    """Mail kept by the embedded file backend (no SMTP server configured)."""
    from django.conf import settings

    return render(
        request,
        "console/outbox.html",
        {
            "scope": scope,
            "section": "outbox",
            "messages_sent": outbox_messages(),
            "smtp": settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"),
            "folder": settings.EMAIL_FILE_PATH,
        },
    )
