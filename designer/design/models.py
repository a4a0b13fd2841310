"""What a team designs: endpoints (connections and their activities), transformations and
operations. Run-time data (runs, logs, schedules, agents) lives in ``designer.runs``."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from designer.projects.models import Project

component_name = RegexValidator(r"^[^/:]+$", "Names can't contain “/” or “:”.", code="invalid_name")


class Versioned(models.Model):
    """Every saved component carries a version, so a save on a stale copy can be refused."""

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who saved last: named when a stale save is refused.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class ConnectionStatus(models.TextChoices):
    UNTESTED = "untested", "Not tested"
    CONNECTED = "connected", "Connected"
    FAILING = "failing", "Failing"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"


class Connection(Versioned):
    """The configured connection of an endpoint: one connector, its fields and credentials."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="connections")
    connector_key = models.CharField(max_length=50)
    name = models.CharField(max_length=100, validators=[component_name])
    config = models.JSONField(default=dict, blank=True)  # non-secret field values
    # Secret field values and tokens, as one Fernet token of a JSON object (designer.crypto).
    secrets_encrypted = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.UNTESTED
    )
    status_message = models.TextField(blank=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="connection_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def connector(self):
        from connectors.registry import get_connector

        return get_connector(self.connector_key)


class Activity(Versioned):
    """One configured action of an endpoint's connector: a source or a target."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="activities")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="activities")
    activity_type = models.CharField(max_length=50)
    name = models.CharField(max_length=100, validators=[component_name])
    config = models.JSONField(default=dict, blank=True)
    # Kept between runs, e.g. the "updated since the last successful run" watermark.
    state = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["connection", "name"], name="activity_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def type(self):
        return self.connection.connector.activity_type(self.activity_type)

    @property
    def role(self) -> str:
        return str(self.type.role)


class Transformation(Versioned):
    """Field mapping from the source schema to the target schema.

    ``mapping`` is a list of rules: {"target": "email_address.address", "kind": "path" |
    "constant" | "expression", "value": "..."} (see designer.design.mapping, issue 6).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="transformations")
    name = models.CharField(max_length=100, validators=[component_name])
    mapping = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="transformation_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class AgentLostPolicy(models.TextChoices):
    ERROR = "error", "End the run as Error"
    REQUEUE = "requeue", "Queue the run again"


class Operation(Versioned):
    """The smallest unit that runs: source activity -> transformation -> target activity."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="operations")
    name = models.CharField(max_length=100, validators=[component_name])
    source = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    transformation = models.ForeignKey(
        Transformation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where it sits on the canvas.
    position_x = models.IntegerField(default=0)
    position_y = models.IntegerField(default=0)
    timeout_seconds = models.PositiveIntegerField(default=2 * 60 * 60)
    on_success = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_fail = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    debug_until = models.DateTimeField(null=True, blank=True)
    on_agent_lost = models.CharField(
        max_length=10, choices=AgentLostPolicy.choices, default=AgentLostPolicy.ERROR
    )

    class Meta:
        ordering = ["position_y", "position_x", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="operation_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CanvasChange(models.Model):
    """One undoable canvas change of one user in one project.

    ``inverse`` is a list of primitive steps that put the canvas back (see
    ``designer.design.canvas.apply_inverse``); only the newest ``UNDO_DEPTH`` are kept.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=200)
    inverse = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "user", "-id"], name="canvas_change_recent")]

    def __str__(self) -> str:
        return self.label
