"""Invitations by email: a single-use link to create one's account, and the project roles
waiting for that account."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from designer.projects.models import Role

INVITATION_DAYS = 7


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


def default_expiry():
    return timezone.now() + timedelta(days=INVITATION_DAYS)


class Invitation(models.Model):
    """An email invited to create an account. Only the token's SHA-256 is stored: the link
    exists in the mail alone, and resending issues a new one (the old link stops working)."""

    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    is_staff = models.BooleanField(default=False)  # the account is created as staff
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_expiry)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveIntegerField(default=0)
    send_error = models.CharField(max_length=300, blank=True)  # the last failed send, if any
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per address: inviting again adds to it and resends.
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    @property
    def status_label(self) -> str:
        return InvitationStatus(self.status).label

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class ProjectInvitation(models.Model):
    """A project role waiting for an invited email's account. The row is deleted when the
    account is created (it becomes a Membership) or the invitation is revoked, so a project's
    ``pending_invitations`` are exactly the ones still waiting."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="grants")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="pending_invitations"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invitation__email", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "project"], name="one_pending_role_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invitation.email} invited to {self.project_id} as {self.role}"
