"""Agent groups: the Celery queues operations run on, named and managed in the console.

A project names its group in ``Project.agent_group`` (a queue name, as runs and schedules
read it); the rows here are the groups staff defined, so the console can list them with no
agent yet, refuse deleting one in use and show how to start an agent in it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

queue_name = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
    "Use letters, digits, “-”, “_” or “.”, starting with a letter or digit (it is a queue name).",
    code="invalid_agent_group",
)


class AgentGroup(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[queue_name])
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
