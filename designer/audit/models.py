"""The audit log: who created, changed, deleted, ran or cancelled what in a project, and when."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

# Component kind -> "app_label.Model": looked up by name, since the apps whose components are
# recorded (projects, design) sit above audit and call it.
COMPONENT_MODELS = {
    "connection": "design.Connection",
    "activity": "design.Activity",
    "transformation": "design.Transformation",
    "operation": "design.Operation",
    "variable": "projects.Variable",
}


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    RESTORE = "restore", "Restored"
    RUN = "run", "Ran"
    CANCEL = "cancel", "Cancelled"
    TEST = "test", "Tested"
    IMPORT = "import", "Imported"
    EXPORT = "export", "Exported"
    MEMBER_ADD = "member_add", "Added member"
    MEMBER_ROLE = "member_role", "Changed role of"
    MEMBER_REMOVE = "member_remove", "Removed member"


class AuditEntry(models.Model):
    # SET_NULL with the name kept: the entry for deleting a project outlives the project.
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    project_name = models.CharField(max_length=100, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    actor_name = models.CharField(max_length=150, blank=True)  # "system" for schedules, workers
    # Not limited to AuditAction at the database level: other apps may record their own verbs.
    action = models.CharField(max_length=30, choices=AuditAction.choices, db_index=True)
    component_kind = models.CharField(max_length=50, blank=True)  # "connection", "operation", ...
    component_id = models.BigIntegerField(null=True, blank=True)
    component_name = models.CharField(max_length=200, blank=True)
    # Secrets are removed before these are stored (connectors.redaction.drop_secrets).
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Written by a signal handler rather than an explicit audit_record call.
    automatic = models.BooleanField(default=False)
    # Set on a delete entry once the component has been restored from it.
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["project", "-at"], name="audit_project_at"),
            models.Index(fields=["component_kind", "component_id"], name="audit_component"),
        ]

    def __str__(self) -> str:
        who = self.actor_name or "system"
        return f"{who} {self.action} {self.component_kind} {self.component_name}"

    @property
    def action_label(self) -> str:
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action.replace("_", " ")

    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for the fields that differ; all fields of one side otherwise."""
        before = self.before if isinstance(self.before, dict) else {}
        after = self.after if isinstance(self.after, dict) else {}
        keys = sorted(set(before) | set(after))
        return [
            (key, before.get(key), after.get(key))
            for key in keys
            if before.get(key) != after.get(key) or not (before and after)
        ]

    def readable_changes(self) -> list[tuple[str, object, object]]:
        """``changes()`` as a person reads them: a reference by its name, not its id
        (``source: People → More people`` rather than ``source_id: 3 → 5``)."""
        rows = self.changes()
        label = COMPONENT_MODELS.get(self.component_kind)
        if label is None:
            return rows
        references = {
            f.attname: f
            for f in apps.get_model(label)._meta.concrete_fields
            if isinstance(f, models.ForeignKey)
        }
        references.update(_legacy_references(self.component_kind))
        readable = []
        for key, old, new in rows:
            field = references.get(key)
            if key == "steps" and self.component_kind == "operation":
                names = getattr(self, "_reference_names", None)
                readable.append((key, _chain_text(old, names), _chain_text(new, names)))
                continue
            if field is None:
                readable.append((key, old, new))
                continue
            if key == "project_id" and old in (None, self.project_id) and new == self.project_id:
                # The entry's own project: its name is on the row, no query per entry (the
                # console's audit page lists 50 such entries).
                readable.append(("project", None if old is None else self.project_name,
                                 self.project_name))  # fmt: skip
                continue
            target = field.related_model
            names = getattr(self, "_reference_names", None)
            readable.append(
                (field.name, _name_of(target, old, names), _name_of(target, new, names))
            )
        return readable

    def references(self) -> list[tuple[type[models.Model], object]]:
        """(model, pk) of every other component this entry's changes point at."""
        label = COMPONENT_MODELS.get(self.component_kind)
        if label is None:
            return []
        fields = {
            f.attname: f.related_model
            for f in apps.get_model(label)._meta.concrete_fields
            if isinstance(f, models.ForeignKey) and f.attname != "project_id"
        }
        fields.update(
            {k: f.related_model for k, f in _legacy_references(self.component_kind).items()}
        )
        found = [
            (fields[key], pk)
            for key, old, new in self.changes()
            if key in fields
            for pk in (old, new)
            if pk is not None
        ]
        if self.component_kind == "operation":
            for key, old, new in self.changes():
                if key == "steps":
                    found += _step_references(old) + _step_references(new)
        return found


def with_reference_names(entries) -> list[AuditEntry]:
    """The entries, with the names of the components they point at read in one query per kind
    of component, so a page of entries costs the same whatever they reference."""
    entries = list(entries)
    wanted: dict[type[models.Model], set] = {}
    for entry in entries:
        for model, pk in entry.references():
            wanted.setdefault(model, set()).add(pk)
    names: dict[tuple[type[models.Model], object], object] = {}
    for model, pks in wanted.items():
        for pk, row in model._default_manager.in_bulk(list(pks)).items():
            names[(model, pk)] = getattr(row, "name", None) or str(row)
    for entry in entries:
        entry._reference_names = names
    return entries


def _name_of(model: type[models.Model], pk: object, names: dict | None = None) -> object:
    if pk is None:
        return None
    if names is not None:
        return names.get((model, pk), f"#{pk} (deleted)")
    row = model._default_manager.filter(pk=pk).first()
    if row is None:
        return f"#{pk} (deleted)"
    return getattr(row, "name", None) or str(row)


def _steps_of(value: object) -> list[dict]:
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


def _step_references(value: object) -> list[tuple[type[models.Model], object]]:
    """(model, pk) of the activities and transformations an operation's recorded steps use."""
    activity = apps.get_model("design", "Activity")  # audit sits below design
    transformation = apps.get_model("design", "Transformation")
    found: list[tuple[type[models.Model], object]] = []
    for step in _steps_of(value):
        if step.get("activity_id") is not None:
            found.append((activity, step["activity_id"]))
        if step.get("transformation_id") is not None:
            found.append((transformation, step["transformation_id"]))
    return found


def _chain_text(value: object, names: dict | None) -> object:
    """An operation's recorded steps as a person reads them: ``People ▸ Map ▸ Add contact``
    (a condition's branch steps in brackets after it), names rather than ids."""
    if value is None:
        return None
    steps = _steps_of(value)
    if not steps:
        return "(no steps)"
    children: dict[object, list[dict]] = {}
    for step in steps:
        children.setdefault(step.get("parent_id"), []).append(step)
    for chain in children.values():
        chain.sort(key=lambda s: (s.get("branch") or "", s.get("position") or 0, s.get("id") or 0))

    def label(step: dict) -> str:
        for link, model in (("activity_id", "Activity"), ("transformation_id", "Transformation")):
            if step.get(link) is not None:
                return str(_name_of(apps.get_model("design", model), step[link], names))
        return str(step.get("kind") or "step").capitalize()

    def render(step: dict, depth: int) -> str:
        kids = children.get(step.get("id"), []) if depth < 5 and step.get("id") else []
        if not kids:
            return label(step)
        branches = dict.fromkeys(s.get("branch") or "" for s in kids)
        inner = "; ".join(
            f"{branch}: "
            + " ▸ ".join(render(s, depth + 1) for s in kids if (s.get("branch") or "") == branch)
            for branch in branches
        )
        return f"{label(step)} [{inner}]"

    return " ▸ ".join(render(step, 0) for step in children.get(None, []))


@dataclass(frozen=True)
class _Reference:
    name: str
    related_model: type[models.Model]


def _legacy_references(kind: str) -> dict[str, _Reference]:
    """Links older entries have that the model no longer does: an operation's source /
    transformation / target columns (its steps replaced them), still read by name."""
    if kind != "operation":
        return {}
    activity = apps.get_model("design", "Activity")
    return {
        "source_id": _Reference("source", activity),
        "transformation_id": _Reference(
            "transformation", apps.get_model("design", "Transformation")
        ),
        "target_id": _Reference("target", activity),
    }
