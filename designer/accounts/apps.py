from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save


class AccountsConfig(AppConfig):
    name = "designer.accounts"
    label = "accounts"
    verbose_name = "Accounts and invitations"

    def ready(self) -> None:
        from designer.projects.services import member_invite_unknown_email

        post_save.connect(
            _account_created, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts_claim"
        )
        member_invite_unknown_email.connect(
            _project_invite_unknown_email, dispatch_uid="accounts_project_invite"
        )


def _account_created(sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any):
    """However an account is created, the project roles waiting for its email are granted."""
    if created and not raw and instance.email:
        from designer.accounts.services import pending_invitations_claim

        pending_invitations_claim(instance)


def _project_invite_unknown_email(sender: Any, project, email: str, role: str, actor, **_: Any):
    """A project invitation to an email with no account: a pending invitation, mailed."""
    from designer.accounts.services import AccountError, invitation_create
    from designer.projects.services import MembershipError

    try:
        invitation = invitation_create(email=email, actor=actor, project=project, role=role)
    except AccountError as error:
        raise MembershipError(str(error)) from None
    return invitation.grants.get(project=project)
