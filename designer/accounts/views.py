"""The invitation link, password reset (Django's views, our templates) and a project Admin
withdrawing a pending invitation."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from designer.accounts import services
from designer.accounts.forms import AcceptInvitationForm
from designer.accounts.models import ProjectInvitation
from designer.projects.access import Capability, ProjectAccess, project_view


@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(token)
    refusal = (
        services.invitation_refusal(invitation)
        if (invitation is None or invitation.status != "pending")
        else ""
    )
    if refusal:
        return render(request, "accounts/invitation.html", {"refusal": refusal}, status=410)
    form = AcceptInvitationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                user, project = services.invitation_accept(
                    token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
            except services.AccountError as error:
                form.add_error(None, str(error))
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome, {user.get_username()}: your account is ready.")
                if project is not None:
                    return redirect("design:designer", project_id=project.pk)
                return redirect("projects:list")
    grants = invitation.grants.select_related("project")
    return render(
        request,
        "accounts/invitation.html",
        {"invitation": invitation, "grants": grants, "form": form},
        status=status,
    )


@project_view(Capability.MANAGE)
@require_POST
def project_invitation_cancel(
    request: HttpRequest, access: ProjectAccess, grant_id: int
) -> HttpResponse:
    get_object_or_404(ProjectInvitation, project=access.project, pk=grant_id)
    services.project_invitation_cancel(
        project=access.project, grant_id=grant_id, actor=request.user
    )
    messages.success(request, "Invitation withdrawn.")
    return redirect(reverse("projects:settings", args=[access.project.pk]) + "#members")


@project_view(Capability.MANAGE)
@require_POST
def project_invitation_resend(
    request: HttpRequest, access: ProjectAccess, grant_id: int
) -> HttpResponse:
    """A project Admin sends the pending invitation again: a new link, valid 7 days."""
    grant = get_object_or_404(ProjectInvitation, project=access.project, pk=grant_id)
    try:
        invitation = services.invitation_resend(
            invitation_id=grant.invitation_id, actor=request.user, project=access.project
        )
    except services.AccountError as error:
        messages.error(request, str(error))
    else:
        invitation.refresh_from_db()  # the mail went out after commit: its outcome is here
        if invitation.send_error:
            messages.error(request, f"The mail was not sent: {invitation.send_error}")
        else:
            messages.success(request, f"Invitation sent again to {invitation.email}.")
    return redirect(reverse("projects:settings", args=[access.project.pk]) + "#members")


# Django's password-reset views with this app's templates and namespaced URLs.
_password_reset = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset_form.html",
    subject_template_name="accounts/mail/password_reset_subject.txt",
    email_template_name="accounts/mail/password_reset_body.txt",
    success_url=reverse_lazy("accounts:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


def _reset_keys(request: HttpRequest) -> list[str]:
    email = (request.POST.get("email") or "").strip().lower()
    return [f"reset:email:{email}", f"reset:addr:{request.META.get('REMOTE_ADDR', '')}"]


def _reset_throttled(request: HttpRequest) -> bool:
    """Count this request; True past PASSWORD_RESET_MAX_PER_HOUR for the address or email."""
    throttled = False
    for key in _reset_keys(request):
        cache.add(key, 0, timeout=60 * 60)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=60 * 60)
            count = 1
        throttled = throttled or count > settings.PASSWORD_RESET_MAX_PER_HOUR
    return throttled


def password_reset(request: HttpRequest) -> HttpResponse:
    """Forgot password? Past the hourly limit nothing is mailed, and the answer is the same
    as for a sent link: neither a mailbox can be flooded nor an address probed."""
    if request.method == "POST" and _reset_throttled(request):
        return redirect("accounts:password_reset_done")
    return _password_reset(request)
