"""Undo and Redo of canvas changes, per user and project.

A change is recorded as two snapshots of the operations it touched: ``before`` and ``after``.
A snapshot holds each operation's own fields, its steps, the transformations and activities
those steps use, and the chain arrows other operations point at it with. Undo puts ``before``
back exactly (what was deleted comes back with its ids; what the change created goes, when
nothing else uses it by now); Redo puts ``after`` back. Snapshots rather than hand-written
inverse steps, so every service (placing steps, chains, layout, paste, delete) is undoable
the same way, by wrapping its writes in ``recorded()``.

Workflows (the tabs) a change creates, renames, reorders or deletes are tracked on their own
(``Change.track_workflows``), under "tabs": Undo puts back their name and order, brings back
one that was deleted, and removes one the change created unless operations are in it by now.

History rows are ``CanvasChange``: ``inverse`` keeps {"before", "after", "undone"}. The newest
``UNDO_DEPTH`` are kept; a new change drops the changes that were undone (the redo list).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Q

from designer.design.models import (
    Activity,
    CanvasChange,
    Connection,
    Operation,
    Step,
    Transformation,
    Workflow,
)
from designer.design.services import unique_name
from designer.design.versioning import StaleVersion, versioned_update
from designer.projects.models import Project

UNDO_DEPTH = 50
LINKS = ("on_success", "on_fail", "on_complete")
# Kept by the row itself, never put back from a snapshot.
_BOOKKEEPING = {"id", "project_id", "version", "created_at", "updated_at", "updated_by_id"}


# --------------------------------------------------------------------------------------------
# Snapshots
# --------------------------------------------------------------------------------------------


def _fields(obj: models.Model, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The row's concrete fields, JSON-ready (dates as text)."""
    out: dict[str, Any] = {"id": obj.pk}
    for f in obj._meta.concrete_fields:
        if f.attname in _BOOKKEEPING or f.attname in skip:
            continue
        value = getattr(obj, f.attname)
        out[f.attname] = str(value) if _needs_text(f) and value is not None else value
    return out


def _needs_text(f: models.Field) -> bool:
    return isinstance(f, models.DateTimeField | models.DateField | models.DecimalField)


def _values(model: type[models.Model], row: dict[str, Any]) -> dict[str, Any]:
    """A snapshot row back to field values, ignoring fields the model no longer has."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    out = {}
    for key, value in row.items():
        f = by_attname.get(key)
        if f is None or key in _BOOKKEEPING:
            continue
        out[key] = f.to_python(value) if _needs_text(f) and value is not None else value
    return out


def snapshot(
    project: Project,
    operation_ids: Iterable[int],
    *,
    activity_ids: Iterable[int] = (),
    transformation_ids: Iterable[int] = (),
    workflow_ids: Iterable[int] = (),
) -> dict[str, Any]:
    """The operations (those that still exist), their steps, and what their steps use, plus
    the activities and transformations named (e.g. one a change creates on its own) and the
    workflows tracked as tabs."""
    ops = list(Operation.objects.filter(project=project, pk__in=set(operation_ids)))
    steps = list(Step.objects.filter(operation__in=ops).order_by("operation_id", "position", "id"))
    transformation_ids = set(transformation_ids)
    transformation_ids |= {s.transformation_id for s in steps if s.transformation_id}
    activity_ids = set(activity_ids) | {s.activity_id for s in steps if s.activity_id}
    return {
        # Their workflows, so undoing a workflow's deletion brings its tab back too.
        "workflows": {
            str(w.pk): _fields(w)
            for w in Workflow.objects.filter(pk__in={o.workflow_id for o in ops})
        },
        "operations": {str(o.pk): _fields(o) for o in ops},
        "steps": [_fields(s) for s in steps],
        "transformations": {
            str(t.pk): _fields(t)
            for t in Transformation.objects.filter(project=project, pk__in=transformation_ids)
        },
        "activities": {
            str(a.pk): _fields(a, skip={"state"})
            for a in Activity.objects.filter(project=project, pk__in=activity_ids)
        },
        "tabs": {
            str(w.pk): _fields(w)
            for w in Workflow.objects.filter(project=project, pk__in=set(workflow_ids))
        },
    }


def _linked_to(project: Project, ids: set[int]) -> set[int]:
    """Operations whose chain arrows point at any of ``ids`` (a delete clears those arrows)."""
    query = Q()
    for link in LINKS:
        query |= Q(**{f"{link}__in": ids})
    return set(Operation.objects.filter(query, project=project).values_list("pk", flat=True))


# --------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------


@dataclass
class Change:
    project: Project
    user: Any
    label: str  # may be set inside the change, once it is known what it did
    ids: set[int] = field(default_factory=set)
    activity_ids: set[int] = field(default_factory=set)
    transformation_ids: set[int] = field(default_factory=set)
    workflow_ids: set[int] = field(default_factory=set)
    before: dict[str, Any] = field(default_factory=dict)

    def track(self, *operations: Operation | int) -> None:
        """Include existing operations in the change, as they are now (see ``created``)."""
        new = {o if isinstance(o, int) else o.pk for o in operations} - self.ids
        if not new:
            return
        new |= _linked_to(self.project, new) - self.ids
        self.ids |= new
        self._merge(snapshot(self.project, new))

    def track_workflows(self, *workflows: Workflow) -> None:
        """Include existing workflows (tabs) in the change, as they are now."""
        new = {w.pk for w in workflows} - self.workflow_ids
        if new:
            self.workflow_ids |= new
            self._merge(snapshot(self.project, (), workflow_ids=new))

    def created(self, *objs: Operation | Activity | Transformation | Workflow) -> None:
        """Include what the change creates (absent from ``before``: Undo removes it)."""
        for obj in objs:
            if isinstance(obj, Operation):
                self.ids.add(obj.pk)
            elif isinstance(obj, Workflow):
                self.workflow_ids.add(obj.pk)
            elif isinstance(obj, Activity):
                self.activity_ids.add(obj.pk)
            else:
                self.transformation_ids.add(obj.pk)

    def after(self) -> dict[str, Any]:
        return snapshot(
            self.project,
            self.ids,
            activity_ids=self.activity_ids,
            transformation_ids=self.transformation_ids,
            workflow_ids=self.workflow_ids,
        )

    def _merge(self, more: dict[str, Any]) -> None:
        """What the newly tracked things were before the change (nothing, for a new one)."""
        for key in ("workflows", "operations", "transformations", "activities", "tabs"):
            for pk, row in more[key].items():
                self.before[key].setdefault(pk, row)
        known = {s["id"] for s in self.before["steps"]}
        self.before["steps"] += [s for s in more["steps"] if s["id"] not in known]


@contextmanager
def recorded(
    *, project: Project, user: Any, label: str, operations: Iterable[Operation | int] = ()
) -> Iterator[Change]:
    """Record the writes made inside as one undoable change (in one transaction)."""
    with transaction.atomic():
        change = Change(project, user, label)
        change.before = {
            "workflows": {},
            "operations": {},
            "steps": [],
            "transformations": {},
            "activities": {},
            "tabs": {},
        }
        change.track(*operations)
        yield change
        after = change.after()
        if after != change.before:
            _save(project, user, change.label, change.before, after)


def record(
    project: Project, user: Any, label: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Record a change whose snapshots the caller took itself."""
    _save(project, user, label, before, after)


def _save(
    project: Project, user: Any, label: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    mine = CanvasChange.objects.filter(project=project, user=user)
    # A new change ends what could be redone.
    mine.filter(inverse__undone=True).delete()
    CanvasChange.objects.create(
        project=project,
        user=user,
        label=label[:200],
        inverse={"before": before, "after": after, "undone": False},
    )
    keep = list(mine.order_by("-id").values_list("id", flat=True)[:UNDO_DEPTH])
    mine.exclude(id__in=keep).delete()


def _newest_to_undo(project: Project, user: Any, *, lock: bool = False) -> CanvasChange | None:
    rows = CanvasChange.objects.filter(project=project, user=user, inverse__undone=False)
    if lock:
        rows = rows.select_for_update()
    return rows.order_by("-id").first()


def _next_to_redo(project: Project, user: Any, *, lock: bool = False) -> CanvasChange | None:
    rows = CanvasChange.objects.filter(project=project, user=user, inverse__undone=True)
    if lock:
        rows = rows.select_for_update()
    return rows.order_by("id").first()


def labels(project: Project, user: Any) -> tuple[str, str]:
    """(what Undo would undo, what Redo would redo); "" for nothing. One query."""
    if user is None or not user.is_authenticated:
        return "", ""
    rows = list(
        CanvasChange.objects.filter(project=project, user=user)
        .order_by("-id")
        .values_list("label", "inverse__undone")
    )
    undo_label = next((label for label, undone in rows if undone is False), "")
    redo_label = next((label for label, undone in reversed(rows) if undone is True), "")
    return undo_label, redo_label


@transaction.atomic
def undo(*, project: Project, user: Any) -> str | None:
    """Undo this user's newest change; its label, or None when there is nothing to undo.

    Raises StaleVersion when someone else changed one of its operations since.
    """
    change = _newest_to_undo(project, user, lock=True)
    if change is None:
        return None
    if "before" not in change.inverse:  # a history row of an older format: can't be undone
        change.delete()
        return undo(project=project, user=user)
    _check_unchanged(project, user, change.inverse["after"])
    restore(project, user, change.inverse["before"], current=change.inverse["after"])
    change.inverse = {**change.inverse, "undone": True}
    change.save(update_fields=["inverse"])
    return change.label


@transaction.atomic
def redo(*, project: Project, user: Any) -> str | None:
    """Redo the change this user undid last; its label, or None."""
    change = _next_to_redo(project, user, lock=True)
    if change is None:
        return None
    _check_unchanged(project, user, change.inverse["before"])
    restore(project, user, change.inverse["after"], current=change.inverse["before"])
    change.inverse = {**change.inverse, "undone": False}
    change.save(update_fields=["inverse"])
    return change.label


def _check_unchanged(project: Project, user: Any, expected: dict[str, Any]) -> None:
    """Refuse to undo over someone else's later edit of the same operation or workflow."""
    ids = [int(pk) for pk in expected["operations"]]
    user_id = getattr(user, "pk", None)
    for op in Operation.objects.filter(project=project, pk__in=ids).select_related("updated_by"):
        row = expected["operations"][str(op.pk)]
        if op.updated_by_id not in (None, user_id) and _differs(op, row):
            who = op.updated_by.get_username()
            raise StaleVersion(
                f"“{op.name}” was changed by {who} since: undo would overwrite their change."
            )
    tabs = expected.get("tabs", {})
    workflows = Workflow.objects.filter(project=project, pk__in=[int(pk) for pk in tabs])
    for workflow in workflows.select_related("updated_by"):
        if workflow.updated_by_id not in (None, user_id) and _differs(
            workflow, tabs[str(workflow.pk)]
        ):
            who = workflow.updated_by.get_username()
            raise StaleVersion(
                f"The workflow “{workflow.name}” was changed by {who} since: undo would "
                "overwrite their change."
            )


def _differs(obj: Operation | Workflow, row: dict[str, Any]) -> bool:
    return _fields(obj) != row


# --------------------------------------------------------------------------------------------
# Restoring a snapshot
# --------------------------------------------------------------------------------------------


def restore(
    project: Project, user: Any, target: dict[str, Any], *, current: dict[str, Any]
) -> None:
    """Make the operations of ``target`` and ``current`` look as ``target`` says."""
    _restore_tabs(project, user, target.get("tabs", {}))
    _restore_components(project, user, Workflow, target.get("workflows", {}))
    _restore_components(project, user, Transformation, target["transformations"])
    _restore_components(project, user, Activity, target["activities"])
    wanted = {int(pk): row for pk, row in target["operations"].items()}
    gone = {int(pk) for pk in current["operations"]} - set(wanted)
    Operation.objects.filter(project=project, pk__in=gone).delete()
    for pk, row in wanted.items():
        _restore_operation(project, user, pk, row)
    # Steps: those of the operations in the target, exactly.
    Step.objects.filter(operation_id__in=wanted).delete()
    steps = [Step(**{"id": s["id"], **_values(Step, s)}) for s in target["steps"]]
    # An activity not brought back (its endpoint gone, or a global one no longer shared)
    # leaves its step empty, as deleting it would have.
    present = set(
        Activity.objects.filter(pk__in={s.activity_id for s in steps}).values_list("pk", flat=True)
    )
    for s in steps:
        if s.activity_id is not None and s.activity_id not in present:
            s.activity_id = None
    parents = {s.pk: s.parent_id for s in steps}
    for s in steps:
        s.parent_id = None
    Step.objects.bulk_create(steps)
    for pk, parent in parents.items():
        if parent is not None:
            Step.objects.filter(pk=pk).update(parent_id=parent)
    # Arrows last: they may point at operations restored just now.
    existing = set(Operation.objects.filter(project=project).values_list("pk", flat=True))
    for pk, row in wanted.items():
        links = {link: row.get(f"{link}_id") for link in LINKS if f"{link}_id" in row}
        links = {k: (v if v in existing else None) for k, v in links.items()}
        Operation.objects.filter(pk=pk).update(**{f"{k}_id": v for k, v in links.items()})
    _drop_unused(project, Transformation, current["transformations"], target["transformations"])
    _drop_unused(project, Activity, current["activities"], target["activities"])
    _drop_tabs(project, target.get("tabs", {}), current.get("tabs", {}))


def _restore_tabs(project: Project, user: Any, target: dict[str, Any]) -> None:
    """Workflows tracked as tabs get back their name and order, or come back with their ids."""
    for pk, row in target.items():
        values = _values(Workflow, row)
        taken = Workflow.objects.filter(project=project).exclude(pk=int(pk))
        values["name"] = unique_name(values["name"], taken.values_list("name", flat=True))
        if Workflow.objects.filter(pk=int(pk)).exists():
            versioned_update(Workflow, pk=int(pk), expected_version=None, user=user, **values)
        else:
            Workflow.objects.create(pk=int(pk), project=project, updated_by=user, **values)


def _drop_tabs(project: Project, target: dict[str, Any], current: dict[str, Any]) -> None:
    """Workflows tracked as tabs that ``target`` does not have (the change made them) go,
    unless operations are in them by now or they are the project's last."""
    for pk in set(current) - set(target):
        workflow = Workflow.objects.filter(project=project, pk=int(pk)).first()
        others = Workflow.objects.filter(project=project).exclude(pk=int(pk))
        if workflow is not None and not workflow.operations.exists() and others.exists():
            workflow.delete()


def _restore_operation(project: Project, user: Any, pk: int, row: dict[str, Any]) -> None:
    values = _values(Operation, row)
    values = {k: v for k, v in values.items() if k.removesuffix("_id") not in LINKS}
    if Operation.objects.filter(pk=pk).exists():
        versioned_update(Operation, pk=pk, expected_version=None, user=user, **values)
        return
    taken = Operation.objects.filter(project=project).values_list("name", flat=True)
    values["name"] = unique_name(values["name"], taken)
    operation = Operation(pk=pk, project=project, updated_by=user, **values)
    if not Workflow.objects.filter(pk=operation.workflow_id).exists():
        operation.workflow_id = None  # its workflow was deleted since: the project's first one
    operation.save()


def _restore_components(
    project: Project, user: Any, model: type[models.Model], rows: dict[str, Any]
) -> None:
    """Re-create those of ``rows`` deleted since (with their ids); others are left as they are:
    a mapping or activity edited in its own editor is work that Undo on the canvas keeps."""
    present = set(
        model.objects.filter(pk__in=[int(pk) for pk in rows]).values_list("pk", flat=True)
    )
    for pk, row in rows.items():
        if int(pk) in present:
            continue
        values = _values(model, row)
        if model is Activity:
            # Gone, or a global endpoint no longer shared with the project: not brought back.
            usable = Connection.objects.usable_by(project)
            if not usable.filter(pk=values["connection_id"]).exists():
                continue
            scope = model.objects.filter(connection_id=values["connection_id"], project=project)
        else:  # a transformation or a workflow: names unique in the project
            scope = model.objects.filter(project=project)
        values["name"] = unique_name(values["name"], scope.values_list("name", flat=True))
        model.objects.create(pk=int(pk), project=project, updated_by=user, **values)


def _drop_unused(
    project: Project, model: type[models.Model], was: dict[str, Any], now: dict[str, Any]
) -> None:
    """Delete what the undone change created, if nothing uses it and it was not edited since."""
    for pk in set(was) - set(now):
        obj = model.objects.filter(project=project, pk=int(pk)).first()
        if obj is None or _fields(obj, skip={"state"}) != was[pk]:
            continue
        if not _in_use(obj):
            obj.delete()


def _in_use(obj: Activity | Transformation) -> bool:
    if isinstance(obj, Transformation):
        return Step.objects.filter(transformation=obj).exists()
    return Step.objects.filter(activity=obj).exists()
