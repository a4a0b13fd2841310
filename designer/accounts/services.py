"""Writes to accounts and invitations. Every action is audited (installation-wide entries,
``project=None``; project roles also in the project's history). Mail goes out after commit,
so a rolled-back change never sends a link."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from designer.accounts.mail import MailError, absolute_url, send_templated
from designer.accounts.models import INVITATION_DAYS, Invitation, ProjectInvitation
from designer.audit.models import AuditAction
from designer.audit.services import audit_record
from designer.projects.models import Membership, Project, Role


class AccountError(ValueError):
    """An account change that is refused; the message says why."""


# Verbs of the installation-wide audit entries (AuditEntry.action is free text).
class AccountAction:
    INVITED = "invited"
    INVITE_RESENT = "invite_resent"
    INVITE_REVOKED = "invite_revoked"
    INVITE_ACCEPTED = "invite_accepted"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    RESET_LINK_SENT = "reset_link_sent"
    MADE_STAFF = "made_staff"
    STAFF_REMOVED = "staff_removed"

    choices = [
        (INVITED, "Invited"),
        (INVITE_RESENT, "Invite resent"),
        (INVITE_REVOKED, "Invite revoked"),
        (INVITE_ACCEPTED, "Invite accepted"),
        (DEACTIVATED, "Deactivated"),
        (REACTIVATED, "Reactivated"),
        (RESET_LINK_SENT, "Reset link sent"),
        (MADE_STAFF, "Made staff"),
        (STAFF_REMOVED, "Staff removed"),
    ]


def _user_model() -> Any:
    return get_user_model()


def _audit(
    actor: Any,
    action: str,
    *,
    kind: str,
    name: str,
    project: Project | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    audit_record(
        project=project,
        actor=actor,
        action=action,
        kind=kind,
        name=name,
        before=before,
        after=after,
    )


def token_hash(token: str) -> str:
    """How a high-entropy secret is stored, for lookup: invitation links here, API tokens and
    trigger URL keys (designer/api) too. SHA-256, not a slow password hash: 256 random bits
    need none."""
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError(f"“{email}” is not an email address.") from None
    return email


def _password_errors(password: str, user: Any) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise AccountError(" ".join(error.messages)) from None


# --- Users -----------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *, username: str, email: str, password: str | None, is_staff: bool = False, actor: Any
) -> Any:
    """A new active account. Without a password, the person is mailed a link to set one.
    Project roles waiting for this email (pending invitations) are granted at once."""
    User = _user_model()
    username = (username or "").strip()
    if not username:
        raise AccountError("Enter a username.")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"The username “{username}” is taken.")
    email = _clean_email(email) if email.strip() else ""
    if email and User.objects.filter(email__iexact=email).exists():
        raise AccountError(f"Another account already uses {email}.")
    user = User(username=username, email=email, is_staff=is_staff, is_active=True)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        raise AccountError(" ".join(error.messages)) from None
    if password:
        _password_errors(password, user)
        user.set_password(password)
    else:
        if not email:
            raise AccountError("Give a password or an email to send a set-password link to.")
        user.set_unusable_password()
    _save_new_user(user)  # the post_save receiver grants pending project invitations
    _audit(
        actor,
        AuditAction.CREATE,
        kind="user",
        name=username,
        after={"email": email, "is_staff": is_staff},
    )
    if not password:
        uid = user.pk
        transaction.on_commit(lambda: _send_reset_link(uid, welcome=True))
    return user


def _save_new_user(user: Any) -> None:
    """Insert; the same username taken meanwhile (unique index) reads as the usual refusal."""
    try:
        with transaction.atomic():  # a savepoint, so the caller's transaction stays usable
            user.save()
    except IntegrityError:
        raise AccountError(f"The username “{user.get_username()}” is taken.") from None


def _lock_active_staff() -> list[int]:
    # Locks the active staff rows, so two concurrent removals can't both pass the check.
    return list(
        _user_model()
        .objects.select_for_update()
        .filter(is_staff=True, is_active=True)
        .values_list("pk", flat=True)
    )


def _locked_user(user_id: int) -> Any:
    user = _user_model().objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise AccountError("No such user.")
    return user


def _refuse_last_staff(user: Any, staff_ids: list[int], what: str) -> None:
    if user.is_staff and user.is_active and staff_ids == [user.pk]:
        raise AccountError(
            f"{user.get_username()} is the last active staff user and can't be {what}: "
            "make someone else staff first."
        )


def sessions_end(user: Any) -> int:
    """Delete the user's sessions now. (Django already refuses an inactive user's session on
    its next request; this also frees them from the session store.)"""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_set_active(*, user_id: int, active: bool, actor: Any) -> Any:
    staff_ids = _lock_active_staff()
    user = _locked_user(user_id)
    if user.is_active == active:
        return user
    if not active:
        if actor is not None and user.pk == actor.pk:
            raise AccountError("You can't deactivate your own account.")
        _refuse_last_staff(user, staff_ids, "deactivated")
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        sessions_end(user)
    action = AccountAction.REACTIVATED if active else AccountAction.DEACTIVATED
    _audit(actor, action, kind="user", name=user.get_username())
    return user


@transaction.atomic
def user_set_staff(*, user_id: int, is_staff: bool, actor: Any) -> Any:
    staff_ids = _lock_active_staff()
    user = _locked_user(user_id)
    if user.is_staff == is_staff:
        return user
    if not is_staff:
        _refuse_last_staff(user, staff_ids, "removed from staff")
    user.is_staff = is_staff
    user.save(update_fields=["is_staff"])
    action = AccountAction.MADE_STAFF if is_staff else AccountAction.STAFF_REMOVED
    _audit(actor, action, kind="user", name=user.get_username())
    return user


def password_reset_url(user: Any) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute_url(reverse("accounts:password_reset_confirm", args=[uid, token]))


def _send_reset_link(user_id: int, *, welcome: bool = False) -> str:
    """Mail a link to (re)set the password; returns the send error, or "" once sent."""
    user = _user_model().objects.get(pk=user_id)
    context = {"user": user, "link": password_reset_url(user), "welcome": welcome}
    try:
        send_templated(template="accounts/mail/password_link", to=[user.email], context=context)
    except MailError as error:
        return str(error)
    return ""


def password_reset_send(*, user_id: int, actor: Any) -> None:
    """Mail the user a password-reset link now; MailError if the server refused it."""
    user = _user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise AccountError("No such user.")
    if not user.is_active:
        raise AccountError(f"{user.get_username()} is deactivated: reactivate them first.")
    if not user.email:
        raise AccountError(f"{user.get_username()} has no email address.")
    error = _send_reset_link(user.pk)
    if error:
        raise MailError(error)
    _audit(actor, AccountAction.RESET_LINK_SENT, kind="user", name=user.get_username())


# --- Invitations -----------------------------------------------------------------------------


def _issue_token(invitation: Invitation) -> str:
    """A new single-use token valid INVITATION_DAYS; the previous link stops working."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.expires_at = timezone.now() + timedelta(days=INVITATION_DAYS)
    return token


def invitation_link(token: str) -> str:
    return absolute_url(reverse("accounts:invitation", args=[token]))


def _send_invitation(invitation_id: int, token: str) -> None:
    invitation = Invitation.objects.select_related("created_by").get(pk=invitation_id)
    grants = list(invitation.grants.select_related("project", "invited_by"))
    context = {
        "invitation": invitation,
        "grants": grants,
        "link": invitation_link(token),
        "days": INVITATION_DAYS,
    }
    try:
        send_templated(template="accounts/mail/invitation", to=[invitation.email], context=context)
    except MailError as error:
        Invitation.objects.filter(pk=invitation_id).update(send_error=str(error))
        return
    Invitation.objects.filter(pk=invitation_id).update(
        sent_at=timezone.now(), send_error="", send_count=invitation.send_count + 1
    )


def _send_after_commit(invitation: Invitation, token: str) -> None:
    pk = invitation.pk
    transaction.on_commit(lambda: _send_invitation(pk, token))


def open_invitation(email: str) -> Invitation | None:
    return (
        Invitation.objects.select_for_update()
        .filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )


def _open_invitation_with_new_link(email: str, *, actor: Any, is_staff: bool):
    """The address's open invitation (created if none) with a fresh token."""
    invitation = open_invitation(email)
    if invitation is None:
        invitation = Invitation(email=email, created_by=actor if _is_user(actor) else None)
        invitation.is_staff = is_staff
        token = _issue_token(invitation)
        try:
            with transaction.atomic():  # a savepoint: the unique index may refuse the row
                invitation.save()
            return invitation, token
        except IntegrityError:
            # Someone invited the same address at the same moment and committed first: add
            # to their invitation (PostgreSQL's next statement sees the committed row).
            invitation = open_invitation(email)
            if invitation is None:
                raise
    invitation.is_staff = invitation.is_staff or is_staff
    token = _issue_token(invitation)
    invitation.save()
    return invitation, token


@transaction.atomic
def invitation_create(
    *,
    email: str,
    actor: Any,
    is_staff: bool = False,
    project: Project | None = None,
    role: str = "",
) -> Invitation:
    """Invite an email with no account; inviting an address again adds to its open invitation
    and sends a fresh link. With ``project``, the role waits for the account (pending)."""
    email = _clean_email(email)
    existing = _user_model().objects.filter(email__iexact=email).first()
    if existing is not None:
        state = "" if existing.is_active else ", deactivated"
        raise AccountError(
            f"{email} already has an account ({existing.get_username()}{state}): "
            "invite that user instead."
        )
    if project is not None and role not in Role.values:
        raise AccountError(f"Unknown role {role!r}.")
    invitation, token = _open_invitation_with_new_link(email, actor=actor, is_staff=is_staff)
    if project is not None:
        ProjectInvitation.objects.update_or_create(
            invitation=invitation,
            project=project,
            defaults={"role": role, "invited_by": actor if _is_user(actor) else None},
        )
        _audit(
            actor,
            AccountAction.INVITED,
            kind="invitation",
            name=email,
            project=project,
            after={"role": role},
        )
    else:
        _audit(
            actor,
            AccountAction.INVITED,
            kind="invitation",
            name=email,
            after={"is_staff": invitation.is_staff},
        )
    _send_after_commit(invitation, token)
    return invitation


def _is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _locked_invitation(invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
    if invitation is None:
        raise AccountError("No such invitation.")
    if invitation.accepted_at is not None:
        raise AccountError(f"{invitation.email} has already accepted the invitation.")
    if invitation.revoked_at is not None:
        raise AccountError(f"The invitation of {invitation.email} was revoked.")
    return invitation


@transaction.atomic
def invitation_resend(
    *, invitation_id: int, actor: Any, project: Project | None = None
) -> Invitation:
    """A new link, valid INVITATION_DAYS again (an expired invitation too). ``project``: the
    project whose Admin resent it, for that project's history."""
    invitation = _locked_invitation(invitation_id)
    token = _issue_token(invitation)
    invitation.save(update_fields=["token_hash", "expires_at"])
    _audit(
        actor,
        AccountAction.INVITE_RESENT,
        kind="invitation",
        name=invitation.email,
        project=project,
    )
    _send_after_commit(invitation, token)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation_id: int, actor: Any) -> Invitation:
    invitation = _locked_invitation(invitation_id)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    for grant in invitation.grants.select_related("project"):
        _audit(
            actor,
            AccountAction.INVITE_REVOKED,
            kind="invitation",
            name=invitation.email,
            project=grant.project,
            before={"role": grant.role},
        )
    invitation.grants.all().delete()
    _audit(actor, AccountAction.INVITE_REVOKED, kind="invitation", name=invitation.email)
    return invitation


@transaction.atomic
def project_invitation_cancel(*, project: Project, grant_id: int, actor: Any) -> None:
    """A project Admin withdraws a pending role; an invitation left with nothing to offer (no
    other project, not staff) is revoked, so its link no longer creates an account."""
    grant = (
        ProjectInvitation.objects.select_related("invitation")
        .filter(project=project, pk=grant_id)
        .first()
    )
    if grant is None:
        return
    invitation = grant.invitation
    _audit(
        actor,
        AccountAction.INVITE_REVOKED,
        kind="invitation",
        name=invitation.email,
        project=project,
        before={"role": grant.role},
    )
    grant.delete()
    if not invitation.is_staff and not invitation.grants.exists() and invitation.is_open:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


def invitation_for_token(token: str) -> Invitation | None:
    return Invitation.objects.filter(token_hash=token_hash(token)).first()


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str) -> tuple[Any, Project | None]:
    """Create the invited account (single use); returns it and the project to land in."""
    invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash(token)).first()
    if invitation is None or invitation.status != "pending":
        raise AccountError(invitation_refusal(invitation))
    grants = list(invitation.grants.select_related("project").order_by("id"))
    first_project = grants[0].project if grants else None
    User = _user_model()
    username = (username or "").strip()
    if not username:
        raise AccountError("Choose a username.")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"The username “{username}” is taken: choose another.")
    user = User(username=username, email=invitation.email, is_staff=invitation.is_staff)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        raise AccountError(" ".join(error.messages)) from None
    _password_errors(password, user)
    user.set_password(password)
    _save_new_user(user)  # the post_save receiver grants the pending roles, closes the invitation
    _audit(user, AccountAction.INVITE_ACCEPTED, kind="invitation", name=invitation.email)
    return user, first_project


def invitation_refusal(invitation: Invitation | None) -> str:
    if invitation is None:
        return "This invitation link is not valid: it was replaced by a newer one or mistyped."
    status = invitation.status
    if status == "accepted":
        return "This invitation has already been used: log in with the account it created."
    if status == "revoked":
        return "This invitation was withdrawn. Ask a staff member for a new one."
    if status == "expired":
        return "This invitation has expired. Ask for it to be sent again."
    return ""


def pending_invitations_claim(user: Any) -> list[Membership]:
    """Turn the open invitations of the user's email into memberships (on account creation,
    whoever created it: the invitation link, the console, ``createuser``, the admin)."""
    if not user.email:
        return []
    invitations = list(
        Invitation.objects.select_for_update().filter(
            email__iexact=user.email, accepted_at__isnull=True, revoked_at__isnull=True
        )
    )
    added: list[Membership] = []
    for invitation in invitations:
        for grant in invitation.grants.select_related("project", "invited_by"):
            membership, created = Membership.objects.get_or_create(
                project=grant.project, user=user, defaults={"role": grant.role}
            )
            if created:
                added.append(membership)
                audit_record(
                    project=grant.project,
                    actor=grant.invited_by,
                    action=AuditAction.MEMBER_ADD,
                    kind="member",
                    name=user.get_username(),
                    after={"role": grant.role, "invited_as": invitation.email},
                )
        invitation.grants.all().delete()
        invitation.accepted_at = timezone.now()
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])
    return added
