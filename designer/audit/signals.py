"""Audit entries for design components and runs, written from model signals.

A safety net under the explicit ``audit_record`` calls: creating a component, deleting one
(with the snapshot that makes it restorable) and starting a run are recorded even where a
service does not call ``audit_record`` itself. An explicit call for the same component and
action wins: the automatic entry is skipped (explicit first) or replaced (explicit after, see
``audit_record``). Changes made with ``QuerySet.update()`` (versioned saves, cancels) send no
signal; those need the explicit call.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_save, pre_delete

from designer.acting import current_actor

DESIGN_MODELS = ("connection", "activity", "transformation", "operation")


def _is_cascade(instance: models.Model, origin: Any) -> bool:
    """Deleted because something else was (a connection's activities, a project's parts)."""
    if origin is None or origin is instance:
        return False
    if isinstance(origin, models.QuerySet):
        return origin.model is not type(instance)
    return not (type(origin) is type(instance) and origin.pk == instance.pk)


def _project(instance: models.Model):
    return getattr(instance, "project", None)


def on_design_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    from designer.audit.services import audit_record_automatic

    actor = current_actor() or getattr(instance, "updated_by", None)
    audit_record_automatic(project=_project(instance), actor=actor, action="create", obj=instance)


def on_design_deleting(sender, instance, origin: Any = None, **kwargs) -> None:
    if _is_cascade(instance, origin):
        return
    from designer.audit.services import audit_record_automatic

    audit_record_automatic(
        project=_project(instance), actor=current_actor(), action="delete", obj=instance
    )


def on_run_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    from designer.audit.services import audit_record_automatic

    actor = instance.triggered_by or current_actor()
    audit_record_automatic(
        project=instance.project,
        actor=actor,
        action="run",
        obj=instance.operation,
        after={"run": instance.pk, "trigger": instance.trigger},
    )


def connect() -> None:
    from django.apps import apps

    for name in DESIGN_MODELS:
        model = apps.get_model("design", name)
        uid = f"audit-{name}"
        post_save.connect(on_design_saved, sender=model, dispatch_uid=uid + "-save")
        pre_delete.connect(on_design_deleting, sender=model, dispatch_uid=uid + "-delete")
    try:
        run_model = apps.get_model("runs", "OperationRun")
    except LookupError:
        return
    post_save.connect(on_run_saved, sender=run_model, dispatch_uid="audit-run-save")
