"""Writing the audit log and restoring deleted components from it.

Other apps call ``audit_record`` after a write, in the same transaction:

    audit_record(project=p, actor=request.user, action="update", obj=connection,
                 before=before_snapshot, after=audit_snapshot(connection))

Secrets are removed here, whatever the caller passes.

Conventions, so the history reads the same everywhere:
- design changes: ``obj=<component>``, action "create" / "update" (with ``before=
  audit_snapshot(obj)`` taken before the change) / "delete" (called BEFORE ``obj.delete()``,
  so the snapshot that makes the restore possible can be taken);
- runs: ``obj=<operation>``, action "run" or "cancel"; a Test: ``obj=<connection>``, "test";
- ``actor=None`` for schedules and workers (shown as "system").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from connectors.redaction import drop_secrets
from designer.audit.context import quiet_signals, signals_quiet
from designer.audit.models import COMPONENT_MODELS, AuditAction, AuditEntry

if TYPE_CHECKING:  # audit sits below every app that records: no runtime import of theirs
    from designer.projects.models import Project

# Fields that are bookkeeping, not configuration: left out of snapshots.
_SKIP_FIELDS = {"created_at", "updated_at", "updated_by", "secrets_encrypted", "state"}


class RestoreError(Exception):
    """A deleted component can't be restored; the message says why."""


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_snapshot(obj: models.Model) -> dict[str, Any]:
    """The configuration of a component as plain JSON (FKs as ``<name>_id``), secrets removed.

    A connection's snapshot carries its activities and an operation's its steps, so
    restoring a deleted endpoint or operation brings back what the delete cascaded away.
    """
    data: dict[str, Any] = {"id": obj.pk}
    for field in obj._meta.concrete_fields:
        if field.primary_key or field.name in _SKIP_FIELDS:
            continue
        data[field.attname] = getattr(obj, field.attname)
    kind = obj._meta.model_name
    if kind == "connection":
        data["activities"] = [audit_snapshot(a) for a in obj.activities.all()]  # type: ignore[attr-defined]
    if kind == "operation":
        data["steps"] = [_step_snapshot(s) for s in obj.steps.all()]  # type: ignore[attr-defined]
    return _strip_secrets(kind, _jsonable(data))


_STEP_FIELDS = ("parent_id", "branch", "position", "kind", "activity_id", "transformation_id")


def _step_snapshot(step: models.Model) -> dict[str, Any]:
    data = {"id": step.pk, **{name: getattr(step, name) for name in _STEP_FIELDS}}
    data["config"] = step.config  # type: ignore[attr-defined]
    return data


def steps_snapshot(steps: Iterable[models.Model]) -> list[dict[str, Any]]:
    """An operation's steps as its snapshot records them (a copy: later edits of the same
    objects don't change it). A step service takes it before changing the chain, so the
    history's "before" is the chain as it was."""
    return _jsonable([_step_snapshot(s) for s in steps])


def _connector_secret_names(connector_key: str | None) -> frozenset[str]:
    if not connector_key:
        return frozenset()
    try:
        from connectors.registry import get_connector

        return get_connector(connector_key).secret_field_names
    except Exception:  # an unknown or broken connector must not stop the audit
        return frozenset()


def _strip_secrets(kind: str, value: Any) -> Any:
    if not isinstance(value, dict):
        return drop_secrets(value) if value is not None else None
    extra = _connector_secret_names(value.get("connector_key")) if kind == "connection" else ()
    cleaned = drop_secrets(value, extra_keys=extra)
    if kind == "variable" and value.get("is_secret"):
        cleaned.pop("value", None)
    return cleaned


def audit_record(
    *,
    project: Project | None,
    actor: Any = None,
    action: str,
    obj: models.Model | None = None,
    kind: str = "",
    name: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    _automatic: bool = False,
) -> AuditEntry:
    """Record one action. ``obj`` fills kind/id/name; a delete without ``before`` snapshots
    ``obj`` (call it before deleting), a create or update without ``after`` snapshots it too."""
    component_id = None
    if obj is not None:
        kind = kind or obj._meta.model_name
        name = name or str(getattr(obj, "name", "") or obj)
        component_id = obj.pk
        if action == AuditAction.DELETE and before is None and obj.pk is not None:
            before = audit_snapshot(obj)
        if action in (AuditAction.CREATE, AuditAction.UPDATE) and after is None:
            after = audit_snapshot(obj)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    if component_id is not None and not _automatic:
        # An explicit record replaces what a signal wrote moments ago for the same thing.
        _recent(kind, component_id, str(action)).filter(automatic=True).delete()
    return AuditEntry.objects.create(
        automatic=_automatic,
        project=project,
        project_name=project.name if project is not None else "",
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else "system",
        action=str(action),
        component_kind=kind,
        component_id=component_id,
        component_name=name[:200],
        before=_strip_secrets(kind, _jsonable(before)) if before is not None else None,
        after=_strip_secrets(kind, _jsonable(after)) if after is not None else None,
    )


# How long an explicit record and a signal's record count as the same event.
SAME_EVENT_SECONDS = 30


def _recent(kind: str, component_id: int, action: str):
    since = timezone.now() - timedelta(seconds=SAME_EVENT_SECONDS)
    return AuditEntry.objects.filter(
        component_kind=kind, component_id=component_id, action=action, at__gte=since
    )


def audit_record_automatic(
    *, project: Project | None, actor: Any, action: str, obj: models.Model, **fields: Any
) -> AuditEntry | None:
    """From a signal: skipped if the same event was already recorded explicitly."""
    if project is None or obj.pk is None or signals_quiet():
        return None
    if _recent(obj._meta.model_name, obj.pk, action).exists():
        return None
    return audit_record(
        project=project, actor=actor, action=action, obj=obj, _automatic=True, **fields
    )


_RESTORABLE_MODELS = COMPONENT_MODELS
RESTORABLE = tuple(_RESTORABLE_MODELS)


def _model_for(kind: str) -> type[models.Model]:
    label = _RESTORABLE_MODELS.get(kind)
    if label is None:
        raise RestoreError(f"A {kind or 'component'} can't be restored from the history.")
    return apps.get_model(label)


def _free_name(model: type[models.Model], scope: dict[str, Any], name: str) -> str:
    candidate, n = name, 1
    while model._default_manager.filter(name=candidate, **scope).exists():
        n += 1
        candidate = f"{name} (restored{'' if n == 2 else f' {n - 1}'})"
    return candidate


def _recreate(
    model: type[models.Model], snapshot: dict[str, Any], *, project: Project, actor: Any
) -> models.Model:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    values: dict[str, Any] = {}
    for key, value in snapshot.items():
        field = fields.get(key)
        if field is None or field.primary_key or key in _SKIP_FIELDS:
            continue
        if isinstance(field, models.ForeignKey) and value is not None:
            target = field.related_model
            if key == "project_id":
                value = project.pk
            elif not target._default_manager.filter(pk=value).exists():
                if not field.null:
                    raise RestoreError(
                        f"Restore the {target._meta.verbose_name} it belongs to first."
                    )
                value = None  # e.g. an operation's deleted source: left empty, not refused
        elif isinstance(field, models.DateTimeField) and isinstance(value, str):
            value = models.DateTimeField().to_python(value)
        values[key] = value
    values["project_id"] = project.pk
    scope = {"project_id": project.pk}
    if model._meta.model_name == "activity":
        _require_usable_endpoint(values.get("connection_id"), project)
        # Names are per project and endpoint: projects sharing a global endpoint don't clash.
        scope = {"project_id": project.pk, "connection_id": values.get("connection_id")}
    values["name"] = _free_name(model, scope, values.get("name", "Restored"))
    if "version" in fields:
        values["version"] = int(snapshot.get("version") or 0) + 1
    if "updated_by_id" in fields:
        values["updated_by_id"] = actor.pk if actor is not None else None
    if model._meta.model_name == "connection":
        values["secrets_encrypted"] = ""  # never kept in the history: asked for again
        values["status"] = "needs_reconnect"
        values["status_message"] = "Restored from the history: enter the credentials again."
    pk = snapshot.get("id")
    if pk is not None and not model._default_manager.filter(pk=pk).exists():
        values["id"] = pk  # same id, so links and the history still point at it
    obj = model(**values)
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save(force_insert=True)
    return obj


def _require_usable_endpoint(connection_id: Any, project: Project) -> None:
    """An activity comes back only onto an endpoint the project may use: its own, or a global
    endpoint still shared with it (an activity can't be left without one). The global row is
    read under its lock, which an unsharing holds while it checks who uses it."""
    connection_model = apps.get_model("design", "Connection")  # audit sits below design
    row = connection_model._default_manager.select_for_update().filter(pk=connection_id).first()
    if row is None:
        raise RestoreError("Restore the connection it belongs to first.")
    if connection_model._default_manager.usable_by(project).filter(pk=row.pk).exists():
        return
    if row.is_global:
        raise RestoreError(
            f"Its global endpoint “{row.name}” is no longer shared with this project: ask "
            "staff to share it again (console, Global endpoints), then restore it."
        )
    raise RestoreError("Its endpoint is not one of this project's endpoints.")


def _snapshot_steps(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The operation's steps as recorded (popped from ``snapshot``). An entry written while
    operations still had source / transformation / target columns has only those: they
    become the plain chain they meant."""
    steps = snapshot.pop("steps", None)
    slots = {key: snapshot.pop(f"{key}_id", None) for key in ("source", "transformation", "target")}
    if steps is not None:
        return list(steps)
    chain = []
    for kind, pk in slots.items():
        if pk is None:
            continue
        link = "transformation_id" if kind == "transformation" else "activity_id"
        model = apps.get_model(
            "design", "Transformation" if link == "transformation_id" else "Activity"
        )
        if model._default_manager.filter(pk=pk).exists():  # a deleted one: left out
            chain.append({"kind": kind, link: pk})
    return [{**step, "position": i} for i, step in enumerate(chain)]


def _recreate_steps(operation: models.Model, steps: list[dict[str, Any]]) -> None:
    """The restored operation's chain, parents before their branch steps, with their ids when
    free; an activity or transformation deleted since is left empty (as its delete would)."""
    step_model = apps.get_model("design", "Step")  # audit sits below design
    activity_model = apps.get_model("design", "Activity")
    transformation_model = apps.get_model("design", "Transformation")
    activities = set(
        activity_model._default_manager.filter(
            pk__in=[s.get("activity_id") for s in steps if s.get("activity_id")]
        ).values_list("pk", flat=True)
    )
    transformations = set(
        transformation_model._default_manager.filter(
            pk__in=[s.get("transformation_id") for s in steps if s.get("transformation_id")]
        ).values_list("pk", flat=True)
    )
    made: dict[Any, int] = {}  # recorded step id -> restored step id
    pending = list(steps)
    while pending:
        ready = [s for s in pending if s.get("parent_id") is None or s.get("parent_id") in made]
        if not ready:  # a branch whose condition was not recorded: nothing to hang it on
            break
        for step in ready:
            pending.remove(step)
            values = {
                "operation_id": operation.pk,
                "parent_id": made.get(step.get("parent_id")),
                "branch": step.get("branch") or "",
                "position": int(step.get("position") or 0),
                "kind": step["kind"],
                "activity_id": step.get("activity_id")
                if step.get("activity_id") in activities
                else None,
                "transformation_id": step.get("transformation_id")
                if step.get("transformation_id") in transformations
                else None,
                "config": step.get("config") or {},
            }
            pk = step.get("id")
            if pk is not None and not step_model._default_manager.filter(pk=pk).exists():
                values["id"] = pk
            restored = step_model._default_manager.create(**values)
            if pk is not None:
                made[pk] = restored.pk


@transaction.atomic
def component_restore(*, entry: AuditEntry, actor: Any) -> models.Model:
    """Recreate the component a delete entry recorded, and record the restore."""
    entry = AuditEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.action != AuditAction.DELETE:
        raise RestoreError("Only a deleted component can be restored.")
    if entry.restored_at is not None:
        raise RestoreError("This component has already been restored.")
    if entry.project is None:
        raise RestoreError("The project it belonged to no longer exists.")
    if not isinstance(entry.before, dict):
        raise RestoreError("The history has no copy of this component to restore.")
    model = _model_for(entry.component_kind)
    snapshot = dict(entry.before)
    children = snapshot.pop("activities", []) if entry.component_kind == "connection" else []
    steps = _snapshot_steps(snapshot) if entry.component_kind == "operation" else []
    # One "Restored" entry, not a "Created" per row.
    with quiet_signals():
        obj = _recreate(model, snapshot, project=entry.project, actor=actor)
        for child in children:
            _recreate(
                _model_for("activity"),
                {**child, "connection_id": obj.pk},
                project=entry.project,
                actor=actor,
            )
        if steps:
            _recreate_steps(obj, steps)
    entry.restored_at = timezone.now()
    entry.save(update_fields=["restored_at"])
    audit_record(project=entry.project, actor=actor, action=AuditAction.RESTORE, obj=obj)
    return obj


# What a component is and where it belongs: a revert never changes these.
_REVERT_KEEP = {"project_id", "version", "connection_id", "connector_key", "activity_type"}


@transaction.atomic
def component_revert(*, entry: AuditEntry, actor: Any) -> models.Model:
    """Put a component back as it was before a change the history recorded: how an earlier
    mapping, configuration or name comes back. The revert is a new version, itself recorded."""
    entry = AuditEntry.objects.get(pk=entry.pk)
    if entry.action != AuditAction.UPDATE:
        raise RestoreError("Only a change can be reverted.")
    if entry.project is None:
        raise RestoreError("The project it belonged to no longer exists.")
    if not isinstance(entry.before, dict):
        raise RestoreError("The history has no copy of the earlier version.")
    model = _model_for(entry.component_kind)
    current = (
        model._default_manager.select_for_update()
        .filter(pk=entry.component_id, project=entry.project)
        .first()
    )
    if current is None:
        raise RestoreError("It has been deleted since: restore it from its delete entry first.")
    before = audit_snapshot(current)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    for key, value in entry.before.items():
        field = fields.get(key)
        if field is None or field.primary_key or key in _SKIP_FIELDS or key in _REVERT_KEEP:
            continue
        if (
            isinstance(field, models.ForeignKey)
            and value is not None
            and not field.related_model._default_manager.filter(pk=value).exists()
        ):
            raise RestoreError(f"The {field.verbose_name} it used has been deleted since.")
        setattr(current, key, field.to_python(value))
    if "version" in fields:
        current.version += 1
    if "updated_by_id" in fields:
        current.updated_by_id = actor.pk if getattr(actor, "pk", None) else None
    if "updated_at" in fields:
        current.updated_at = timezone.now()
    try:
        with transaction.atomic(), quiet_signals():
            current.save()
    except IntegrityError:
        raise RestoreError(
            "Its earlier name is taken by another component now: rename that one first."
        ) from None
    audit_record(
        project=entry.project,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=current,
        before=before,
        after=audit_snapshot(current),
    )
    return current
