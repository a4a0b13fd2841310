"""What a team designs: endpoints (connections and their activities), transformations and
operations. Run-time data (runs, logs, schedules, agents) lives in ``designer.runs``."""

from __future__ import annotations

from typing import Any

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


class ConnectionQuerySet(models.QuerySet):
    def global_for(self, project: Project) -> ConnectionQuerySet:
        """Staff-defined global endpoints ``project`` may use: shared with every project, or
        with ``project`` among the chosen."""
        chosen = Connection.shared_with.through.objects.filter(
            connection_id=models.OuterRef("pk"), project_id=project.pk
        )
        return self.filter(
            models.Q(is_global=True) & (models.Q(shared_with_all=True) | models.Exists(chosen))
        )

    def usable_by(self, project: Project) -> ConnectionQuerySet:
        """The project's own endpoints and the global ones shared with it: what its activities
        may be built on. Editing a connection stays limited to ``project=`` (own ones)."""
        return self.filter(
            models.Q(project=project) | models.Q(pk__in=self.global_for(project).values("pk"))
        )


class Connection(Versioned):
    """The configured connection of an endpoint: one connector, its fields and credentials.

    A *global* endpoint (issue 12) belongs to no project: staff define it in the console and
    share it with every project (``shared_with_all``) or with the chosen ones. Projects build
    their own activities on it (``Activity.project`` is the using project) and never see its
    secrets or edit it.
    """

    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="connections"
    )
    is_global = models.BooleanField(default=False)
    # A flag, not "nobody chosen": deleting the last chosen project must not share the
    # endpoint with everyone.
    shared_with_all = models.BooleanField(default=False)
    shared_with = models.ManyToManyField(
        Project, blank=True, related_name="shared_global_connections"
    )
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

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="connection_name_unique"),
            # A global endpoint has no project; every other one has exactly one.
            models.CheckConstraint(
                condition=models.Q(is_global=True, project__isnull=True)
                | models.Q(is_global=False, project__isnull=False),
                name="connection_global_xor_project",
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(is_global=True),
                name="global_connection_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def connector(self):
        from connectors.registry import get_connector

        return get_connector(self.connector_key)

    def seen_from(self, project: Project) -> Connection:
        """This connection as used by ``project``: new activities on it belong to that project
        (a global endpoint has no project of its own). Set by the designer's lookups."""
        self.using_project_id = project.pk
        return self

    @property
    def activity_project_id(self) -> int | None:
        """The project a new activity on this connection belongs to."""
        return self.project_id or getattr(self, "using_project_id", None)


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
            # Per project: projects sharing a global endpoint name their activities freely.
            models.UniqueConstraint(
                fields=["project", "connection", "name"], name="activity_name_unique"
            )
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


class Workflow(Versioned):
    """A tab of the designer: a named group of operations. Every project has at least one."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=100, validators=[component_name])
    order = models.IntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="workflow_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Operation(Versioned):
    """The smallest unit that runs: a chain of steps (see ``Step``), source first.

    ``source`` / ``transformation`` / ``target`` read the first of each on the main chain
    from the steps (the steps are the one truth: nothing else stores them).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="operations")
    # Filled with the project's first workflow when left empty (see save()).
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="operations")
    name = models.CharField(max_length=100, validators=[component_name])
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
    on_complete = models.ForeignKey(
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

    def save(self, *args, **kwargs) -> None:
        if self.workflow_id is None:
            self.workflow = default_workflow(self.project)
        super().save(*args, **kwargs)

    def _main_chain(self) -> list[Step]:
        """The main chain's steps in order (prefetched steps when there are: no query)."""
        if self.pk is None:
            return []
        main = [s for s in self.steps.all() if s.parent_id is None]
        return sorted(main, key=lambda s: (s.position, s.pk))

    def _first(self, kind: str) -> Step | None:
        return next((s for s in self._main_chain() if s.kind == kind), None)

    def _kept(self, slot: str, step: Step | None, link: str) -> Any:
        """The activity or transformation ``step`` uses, the same object on every read while
        the step still points at it: a caller that changes ``operation.target`` and saves it
        changes what it read (the steps themselves are read afresh each time)."""
        pk = getattr(step, f"{link}_id") if step is not None else None
        kept = self.__dict__.setdefault("_derived", {})
        if pk is None:
            kept.pop(slot, None)
            return None
        if getattr(kept.get(slot), "pk", None) != pk:
            kept[slot] = getattr(step, link)
        return kept[slot]

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.pop("_derived", None)  # read what they are now, as a relation would
        super().refresh_from_db(*args, **kwargs)

    @property
    def source(self) -> Activity | None:
        """The activity of the source step (only ever the main chain's first step)."""
        main = self._main_chain()
        step = main[0] if main and main[0].kind == StepKind.SOURCE else None
        return self._kept("source", step, "activity")

    @property
    def transformation(self) -> Transformation | None:
        """The main chain's first transformation."""
        return self._kept("transformation", self._first(StepKind.TRANSFORMATION), "transformation")

    @property
    def target(self) -> Activity | None:
        """The activity of the main chain's first target."""
        return self._kept("target", self._first(StepKind.TARGET), "activity")

    # Their ids, read the same way (from the steps, not a column).
    @property
    def source_id(self) -> int | None:
        main = self._main_chain()
        return main[0].activity_id if main and main[0].kind == StepKind.SOURCE else None

    @property
    def transformation_id(self) -> int | None:
        step = self._first(StepKind.TRANSFORMATION)
        return step.transformation_id if step else None

    @property
    def target_id(self) -> int | None:
        step = self._first(StepKind.TARGET)
        return step.activity_id if step else None


def default_workflow(project: Project) -> Workflow:
    """The project's first workflow, creating "Workflow 1" if it has none."""
    workflow = project.workflows.order_by("order", "id").first()
    if workflow is None:
        workflow, _ = Workflow.objects.get_or_create(
            project=project, name="Workflow 1", defaults={"order": 0}
        )
    return workflow


class StepKind(models.TextChoices):
    SOURCE = "source", "Source"
    TRANSFORMATION = "transformation", "Transformation"
    TARGET = "target", "Target"
    SCRIPT = "script", "Script"
    CONDITION = "condition", "Condition"
    INVOKE = "invoke", "Invoke operation"


class Branch(models.TextChoices):
    MAIN = "", "Main chain"
    TRUE = "true", "True"
    FALSE = "false", "False"


class Step(models.Model):
    """One step of an operation's chain, run left to right batch by batch.

    ``config`` by kind: script {"script": text}; condition {"expression": text, "mode":
    "route" | "filter"}; invoke {"operation": id, "wait": bool}; target {"pass_on":
    "response" (each record's result {record, id, action, error_key, error_message} flows on,
    the default) | "input" (the target's input records flow on: the archive pattern)}.
    A condition's branch steps have ``parent`` = the condition and ``branch`` "true"/"false".
    """

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="steps")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    branch = models.CharField(max_length=5, choices=Branch.choices, default="", blank=True)
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps"
    )
    transformation = models.ForeignKey(
        Transformation, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps"
    )
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["operation", "position"], name="step_chain_order")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.position + 1}"


class CanvasChange(models.Model):
    """One undoable canvas change of one user in one project.

    ``inverse`` keeps the changed rows before and after, and whether the change is undone (see
    ``designer.design.undo``); only the newest ``UNDO_DEPTH`` are kept.
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
