"""Who hears about an operation's runs that end in Error or Success with Warning."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationRule(models.Model):
    operation = models.OneToOneField(
        "design.Operation", on_delete=models.CASCADE, related_name="notification_rule"
    )
    on_error = models.BooleanField(default=False)
    on_warning = models.BooleanField(default=False)  # Success with Warning: some records failed
    # Project members (only those still members and active are mailed) and other addresses.
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    addresses = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notifications of operation {self.operation_id}"
