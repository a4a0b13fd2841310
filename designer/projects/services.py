"""Writes to projects and memberships. Views stay thin over these."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from designer.audit.models import AuditAction
from designer.audit.services import audit_record
from designer.projects.models import Membership, Project, Role, Variable


@transaction.atomic
def project_create(*, name: str, created_by, description: str = "") -> Project:
    project = Project.objects.create(name=name, description=description, created_by=created_by)
    Membership.objects.create(project=project, user=created_by, role=Role.ADMIN)
    audit_record(
        project=project,
        actor=created_by,
        action=AuditAction.CREATE,
        kind="project",
        name=project.name,
        after={"name": project.name, "description": description},
    )
    return project


@transaction.atomic
def project_rename(*, project: Project, name: str, actor=None) -> Project:
    # From the row: a bound ModelForm has already set the new name on ``project``.
    before = Project.objects.filter(pk=project.pk).values_list("name", flat=True).get()
    project.name = name
    project.save(update_fields=["name", "updated_at"])
    if before != name:
        audit_record(
            project=project,
            actor=actor,
            action=AuditAction.UPDATE,
            kind="project",
            name=name,
            before={"name": before},
            after={"name": name},
        )
    return project


@transaction.atomic
def project_delete(*, project: Project, actor=None) -> None:
    # Recorded first: the entry keeps the project's name once the project row is gone.
    audit_record(
        project=project, actor=actor, action=AuditAction.DELETE, kind="project", name=project.name
    )
    project.delete()


def membership_set(*, project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


# --- Members --------------------------------------------------------------------------------


class MembershipError(ValueError):
    """A member change that is refused; the message says why."""


class NoSuchUser(MembershipError):
    """No active account has that username or email."""


# Sent by member_invite for an email with no account, with project, email, role and actor. A
# receiver (designer.accounts, which sits above this app) returns the pending invitation it
# keeps and mails, or raises MembershipError; with no receiver the invite is refused.
member_invite_unknown_email = Signal()


def _find_user(username_or_email: str):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    ident = username_or_email.strip()
    if not ident:
        raise MembershipError("Enter a username or an email address.")
    if "@" in ident:
        users = list(User.objects.filter(email__iexact=ident, is_active=True)[:2])
        if len(users) > 1:
            raise MembershipError(f"Several users have the email {ident}: invite by username.")
    else:
        users = list(User.objects.filter(username__iexact=ident, is_active=True)[:1])
    if not users:
        raise NoSuchUser(
            f"No user “{ident}” on this installation: invite them by their email address, "
            "or ask a staff member to create the account."
        )
    return users[0]


@transaction.atomic
def member_invite(*, project: Project, username_or_email: str, role: str, actor) -> Membership:
    """Add an existing user; an email with no account becomes a pending invitation (returned
    instead of a Membership) when designer.accounts is installed."""
    if role not in Role.values:
        raise MembershipError(f"Unknown role {role!r}.")
    try:
        user = _find_user(username_or_email)
    except NoSuchUser:
        email = username_or_email.strip()
        if "@" in email:
            for _receiver, pending in member_invite_unknown_email.send(
                sender=Project, project=project, email=email, role=role, actor=actor
            ):
                if pending is not None:
                    return pending  # a pending invitation: the role waits for the account
        raise
    if Membership.objects.filter(project=project, user=user).exists():
        raise MembershipError(f"{user.get_username()} is already a member.")
    membership = Membership.objects.create(project=project, user=user, role=role)
    audit_record(
        project=project,
        actor=actor,
        action=AuditAction.MEMBER_ADD,
        kind="member",
        name=user.get_username(),
        after={"role": role},
    )
    return membership


def _lock_admins(project: Project) -> list[int]:
    # Locks the project's admin rows, so two concurrent demotions can't both pass the check.
    return list(
        Membership.objects.select_for_update()
        .filter(project=project, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )


def _get_membership(project: Project, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(project=project, pk=membership_id)
        .first()
    )
    if membership is None:
        raise MembershipError("That person is no longer a member.")
    return membership


@transaction.atomic
def member_change_role(*, project: Project, membership_id: int, role: str, actor) -> Membership:
    if role not in Role.values:
        raise MembershipError(f"Unknown role {role!r}.")
    admins = _lock_admins(project)
    membership = _get_membership(project, membership_id)
    if membership.role == role:
        return membership
    if membership.role == Role.ADMIN and admins == [membership.pk]:
        raise MembershipError(
            f"{membership.user.get_username()} is the last Admin: make someone else Admin first."
        )
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        project=project,
        actor=actor,
        action=AuditAction.MEMBER_ROLE,
        kind="member",
        name=membership.user.get_username(),
        before={"role": before},
        after={"role": role},
    )
    return membership


@transaction.atomic
def member_remove(*, project: Project, membership_id: int, actor) -> None:
    admins = _lock_admins(project)
    membership = _get_membership(project, membership_id)
    if membership.role == Role.ADMIN and admins == [membership.pk]:
        raise MembershipError(
            f"{membership.user.get_username()} is the last Admin and can't be removed."
        )
    membership.delete()
    audit_record(
        project=project,
        actor=actor,
        action=AuditAction.MEMBER_REMOVE,
        kind="member",
        name=membership.user.get_username(),
        before={"role": membership.role},
    )


# --- Variables ------------------------------------------------------------------------------


class StaleVersion(Exception):
    """Someone saved the component since this copy was loaded."""

    def __init__(self, obj, loaded_version: int) -> None:
        self.obj = obj
        who = obj.updated_by.get_username() if obj.updated_by else "someone"
        when = timezone.localtime(obj.updated_at).strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(
            f"“{obj.name}” was changed by {who} at {when} (version {obj.version}, you had "
            f"version {loaded_version}). Reload to see their change; your edit was not saved."
        )


def _variable_payload(variable: Variable, *, value: str | None) -> None:
    from designer.crypto import encrypt_json

    if value is None:  # a secret left blank on edit keeps its value
        return
    if variable.is_secret:
        variable.value = ""
        variable.value_encrypted = encrypt_json({"value": value})
    else:
        variable.value = value
        variable.value_encrypted = ""


@transaction.atomic
def variable_create(*, project: Project, name: str, value: str, is_secret: bool, actor) -> Variable:
    variable = Variable(project=project, name=name.strip(), is_secret=is_secret, updated_by=actor)
    _variable_payload(variable, value=value)
    variable.full_clean()
    variable.save()
    audit_record(project=project, actor=actor, action=AuditAction.CREATE, obj=variable)
    return variable


@transaction.atomic
def variable_update(
    *,
    project: Project,
    variable_id: int,
    version: int,
    name: str,
    value: str | None,
    is_secret: bool,
    actor,
) -> Variable:
    """Save a variable edited from ``version``; a stale version raises StaleVersion.

    ``value=None`` keeps the stored value (a secret left blank). Turning a secret into a plain
    variable requires a new value, so the secret is never revealed by the switch.
    """
    from designer.audit.services import audit_snapshot

    # of=("self",): PostgreSQL can't lock the nullable side of the updated_by outer join.
    variable = Variable.objects.select_for_update(of=("self",)).select_related("updated_by")
    variable = variable.get(project=project, pk=variable_id)
    if variable.version != version:
        raise StaleVersion(variable, version)
    before = audit_snapshot(variable)
    if variable.is_secret and not is_secret and value is None:
        raise ValidationError({"value": "Enter the value to make this variable non-secret."})
    if is_secret != variable.is_secret and value is None:
        value = variable.resolved_value()
    variable.name = name.strip()
    variable.is_secret = is_secret
    _variable_payload(variable, value=value)
    variable.version += 1
    variable.updated_by = actor
    variable.full_clean()
    variable.save()
    audit_record(
        project=project, actor=actor, action=AuditAction.UPDATE, obj=variable, before=before
    )
    return variable


@transaction.atomic
def variable_delete(*, project: Project, variable_id: int, actor) -> None:
    variable = Variable.objects.filter(project=project, pk=variable_id).first()
    if variable is None:
        return
    audit_record(project=project, actor=actor, action=AuditAction.DELETE, obj=variable)
    variable.delete()


def variable_secrets_rotate() -> int:
    """Re-encrypt every secret variable with the primary credentials key (for key rotation,
    beside the connections' secrets); returns how many were re-encrypted."""
    from designer.crypto import rotate

    count = 0
    for variable in Variable.objects.exclude(value_encrypted="").only("pk", "value_encrypted"):
        Variable.objects.filter(pk=variable.pk).update(
            value_encrypted=rotate(variable.value_encrypted)
        )
        count += 1
    return count
