"""Personal API tokens and per-operation API triggers.

Neither stores a usable secret in clear: a token and a trigger's URL key are kept as the
SHA-256 of a high-entropy random value (a lookup, not a password: 256 bits need no slow
hash); an HMAC trigger's signing secret must be usable to verify signatures, so it is
encrypted with the credentials keys like a connection's secrets.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from designer.design.models import Operation


class Scope(models.TextChoices):
    READ = "read", "Read (GET: projects, operations, runs, logs, failed records, schedules)"
    RUN = "run", "Run (start, cancel and re-run runs; enable and disable schedules)"


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the token, shown in lists so a user can tell tokens apart.
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class TriggerMode(models.TextChoices):
    SECRET_URL = "secret_url", "Secret URL (whoever knows the URL can start a run)"
    HMAC = "hmac", "Signed requests (HMAC-SHA256 of the timestamp and body)"


class ApiTrigger(models.Model):
    """An inbound trigger of one operation: a POST to its URL starts a run."""

    operation = models.OneToOneField(
        Operation, on_delete=models.CASCADE, related_name="api_trigger"
    )
    mode = models.CharField(max_length=20, choices=TriggerMode.choices)
    # SHA-256 of the random key in the trigger's URL (/api/v1/hooks/<key>/).
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(max_length=16)
    # HMAC mode: the signing secret, encrypted (designer.crypto); empty otherwise.
    secret_encrypted = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"API trigger of {self.operation}"
