"""Canvas writes: operations and the activities placed in them, each change undoable.

Every change records its inverse as a few primitive steps (``apply_inverse``) in a
per-user, per-project history of ``UNDO_DEPTH`` entries; Undo applies the newest one.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from designer.design.models import Activity, CanvasChange, Connection, Operation, Transformation
from designer.design.services import (
    activity_create_default,
    activity_duplicate,
    copy_name,
    name_taken_on_clash,
    unique_name,
)
from designer.design.versioning import versioned_update
from designer.projects.models import Project

UNDO_DEPTH = 20
SLOTS = ("source", "target")
NEW_OPERATION_NAME = "New Operation"


class PlacementRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------


def _record(project: Project, user: Any, label: str, inverse: list[dict[str, Any]]) -> None:
    CanvasChange.objects.create(project=project, user=user, label=label[:200], inverse=inverse)
    keep = list(
        CanvasChange.objects.filter(project=project, user=user)
        .order_by("-id")
        .values_list("id", flat=True)[:UNDO_DEPTH]
    )
    CanvasChange.objects.filter(project=project, user=user).exclude(id__in=keep).delete()


def last_change(project: Project, user: Any) -> CanvasChange | None:
    return CanvasChange.objects.filter(project=project, user=user).order_by("-id").first()


@transaction.atomic
def canvas_undo(*, project: Project, user: Any) -> str | None:
    """Undo this user's newest canvas change; returns its label, or None if nothing to undo."""
    change = (
        CanvasChange.objects.select_for_update()
        .filter(project=project, user=user)
        .order_by("-id")
        .first()
    )
    if change is None:
        return None
    apply_inverse(project, user, change.inverse)
    change.delete()
    return change.label


def apply_inverse(project: Project, user: Any, steps: list[dict[str, Any]]) -> None:
    for step in steps:
        kind = step["op"]
        if kind == "delete_operation":
            Operation.objects.filter(project=project, pk=step["id"]).delete()
        elif kind == "set_operation":
            _restore_slots(project, user, step)
        elif kind == "restore_operation":
            _restore_operation(project, user, step["fields"])
        elif kind == "delete_activity":
            # Only if nothing uses it by now (someone else may have placed it meanwhile).
            if not Operation.objects.filter(source_id=step["id"]).exists() and not (
                Operation.objects.filter(target_id=step["id"]).exists()
            ):
                Activity.objects.filter(project=project, pk=step["id"]).delete()
        elif kind == "delete_transformation":
            # A mapping someone filled in since is work: keep it, detached.
            transformation = Transformation.objects.filter(project=project, pk=step["id"]).first()
            if (
                transformation is not None
                and not transformation.mapping
                and not Operation.objects.filter(transformation=transformation).exists()
            ):
                transformation.delete()


def _existing(model: type, project: Project, pk: int | None) -> int | None:
    if pk is None:
        return None
    return pk if model.objects.filter(project=project, pk=pk).exists() else None


def _restore_slots(project: Project, user: Any, step: dict[str, Any]) -> None:
    if not Operation.objects.filter(project=project, pk=step["id"]).exists():
        return
    versioned_update(
        Operation,
        pk=step["id"],
        expected_version=None,
        user=user,
        source_id=_existing(Activity, project, step["source"]),
        target_id=_existing(Activity, project, step["target"]),
        transformation_id=_existing(Transformation, project, step["transformation"]),
    )


def _restore_operation(project: Project, user: Any, fields: dict[str, Any]) -> None:
    if Operation.objects.filter(pk=fields["id"]).exists():
        return
    taken = Operation.objects.filter(project=project).values_list("name", flat=True)
    Operation.objects.create(
        pk=fields["id"],
        project=project,
        name=unique_name(fields["name"], taken),
        source_id=_existing(Activity, project, fields["source"]),
        target_id=_existing(Activity, project, fields["target"]),
        transformation_id=_existing(Transformation, project, fields["transformation"]),
        position_x=fields["position_x"],
        position_y=fields["position_y"],
        timeout_seconds=fields["timeout_seconds"],
        on_agent_lost=fields["on_agent_lost"],
        updated_by=user,
    )


def _slots(operation: Operation) -> dict[str, Any]:
    return {
        "op": "set_operation",
        "id": operation.pk,
        "source": operation.source_id,
        "target": operation.target_id,
        "transformation": operation.transformation_id,
    }


# --------------------------------------------------------------------------------------------
# Placement
# --------------------------------------------------------------------------------------------


def _role(activity: Activity) -> str:
    try:
        return activity.role
    except KeyError:
        raise PlacementRefused(
            f"“{activity.name}” belongs to a connector that is not installed here."
        ) from None


def _check_place(operation: Operation, activity: Activity, slot: str) -> None:
    role = _role(activity)
    if slot not in SLOTS:
        raise PlacementRefused(f"There is no {slot!r} place in an operation.")
    if role != slot:
        raise PlacementRefused(
            f"“{activity.name}” is a {role} activity: it can't go in the {slot} place of "
            f"“{operation.name}”."
        )
    current: Activity | None = getattr(operation, slot)
    if current is not None and current.pk != activity.pk:
        raise PlacementRefused(
            f"“{operation.name}” already has a {slot}, “{current.name}”: an operation has only "
            f"one {slot}. Remove it first."
        )


def _ensure_transformation(operation: Operation, user: Any, inverse: list[dict]) -> None:
    """Both ends set and no transformation yet: make an empty one named after the operation."""
    if operation.source_id and operation.target_id and not operation.transformation_id:
        taken = Transformation.objects.filter(project_id=operation.project_id).values_list(
            "name", flat=True
        )
        transformation = Transformation.objects.create(
            project_id=operation.project_id,
            name=unique_name(operation.name, taken),
            updated_by=user,
        )
        operation.transformation = transformation
        inverse.append({"op": "delete_transformation", "id": transformation.pk})


def _save_slots(operation: Operation, user: Any, expected_version: int | None) -> None:
    operation.version = versioned_update(
        Operation,
        pk=operation.pk,
        expected_version=expected_version,
        user=user,
        source_id=operation.source_id,
        target_id=operation.target_id,
        transformation_id=operation.transformation_id,
    )


def _next_position(project: Project) -> int:
    top = Operation.objects.filter(project=project).aggregate(m=Max("position_y"))["m"]
    return 0 if top is None else top + 1


def _new_operation(project: Project, user: Any, name: str = NEW_OPERATION_NAME) -> Operation:
    taken = Operation.objects.filter(project=project).values_list("name", flat=True)
    return Operation.objects.create(
        project=project,
        name=unique_name(name, taken),
        position_y=_next_position(project),
        updated_by=user,
    )


def _destination(
    project: Project,
    user: Any,
    operation: Operation | None,
    activity: Activity,
    slot: str,
    inverse: list[dict[str, Any]],
) -> tuple[Operation, bool]:
    """(the operation ``activity`` goes into at ``slot``, whether it is new).

    None means a new operation (its deletion goes first in ``inverse``); an existing one has
    the place checked and its slots saved first in ``inverse``. Raises PlacementRefused.
    """
    if operation is None:
        if slot != _role(activity):
            _check_place(Operation(name=NEW_OPERATION_NAME), activity, slot)
        operation = _new_operation(project, user)
        inverse.insert(0, {"op": "delete_operation", "id": operation.pk})
        return operation, True
    _check_place(operation, activity, slot)
    inverse.insert(0, _slots(operation))
    return operation, False


def resolve_activity(
    *,
    project: Project,
    user: Any,
    activity: Activity | None,
    connection: Connection | None,
    activity_type: str,
    inverse: list[dict[str, Any]],
) -> Activity:
    """The dropped activity, or a new one made from the dropped activity type."""
    if activity is not None:
        return activity
    if connection is None or not activity_type:
        raise PlacementRefused("Drop an activity or an activity type.")
    try:
        created = activity_create_default(
            connection=connection, activity_type=activity_type, user=user
        )
    except KeyError:
        raise PlacementRefused(
            f"“{connection.name}” has no activity type {activity_type!r}."
        ) from None
    inverse.append({"op": "delete_activity", "id": created.pk})
    return created


@transaction.atomic
def canvas_drop(
    *,
    project: Project,
    user: Any,
    activity: Activity | None = None,
    connection: Connection | None = None,
    activity_type: str = "",
    operation: Operation | None = None,
    slot: str = "",
    expected_version: int | None = None,
) -> Operation:
    """Drop an activity (or a new one of a type) on the canvas or on an operation's place.

    On empty canvas a new operation is made with the activity in the place of its role.
    """
    inverse: list[dict[str, Any]] = []
    placed = resolve_activity(
        project=project,
        user=user,
        activity=activity,
        connection=connection,
        activity_type=activity_type,
        inverse=inverse,
    )
    slot = slot or _role(placed)
    operation, is_new = _destination(project, user, operation, placed, slot, inverse)
    if is_new:
        expected_version = None
        label = f"Add “{placed.name}” to a new operation"
    else:
        label = f"Add “{placed.name}” to “{operation.name}”"
    setattr(operation, slot, placed)
    _ensure_transformation(operation, user, inverse)
    _save_slots(operation, user, expected_version)
    # Inverse steps run in order: undo the operation first, then drop what was created for it.
    _record(project, user, label, _ordered(inverse))
    return operation


def _ordered(inverse: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first = [s for s in inverse if s["op"] in ("set_operation", "delete_operation")]
    return first + [s for s in inverse if s not in first]


@transaction.atomic
def operation_move_step(
    *,
    project: Project,
    user: Any,
    from_operation: Operation,
    from_slot: str,
    to_operation: Operation | None,
    to_slot: str = "",
    expected_version: int | None = None,
) -> Operation:
    """Move a placed activity to another operation (or to a new one)."""
    if from_slot not in SLOTS or getattr(from_operation, from_slot) is None:
        raise PlacementRefused(f"“{from_operation.name}” has no {from_slot} to move.")
    activity: Activity = getattr(from_operation, from_slot)
    if to_operation is not None and to_operation.pk == from_operation.pk:
        return from_operation
    slot = to_slot or _role(activity)
    inverse: list[dict[str, Any]] = [_slots(from_operation)]
    to_operation, is_new = _destination(project, user, to_operation, activity, slot, inverse)
    if is_new:
        expected_version = None
    setattr(from_operation, from_slot, None)
    _save_slots(from_operation, user, None)
    setattr(to_operation, slot, activity)
    _ensure_transformation(to_operation, user, inverse)
    _save_slots(to_operation, user, expected_version)
    _record(
        project,
        user,
        f"Move “{activity.name}” from “{from_operation.name}” to “{to_operation.name}”",
        _ordered(inverse),
    )
    return to_operation


@transaction.atomic
def operation_remove_step(
    *,
    project: Project,
    user: Any,
    operation: Operation,
    slot: str,
    expected_version: int | None = None,
) -> Operation:
    if slot not in SLOTS or getattr(operation, slot) is None:
        raise PlacementRefused(f"“{operation.name}” has no {slot} to remove.")
    removed: Activity = getattr(operation, slot)
    inverse = [_slots(operation)]
    setattr(operation, slot, None)
    _save_slots(operation, user, expected_version)
    _record(project, user, f"Remove “{removed.name}” from “{operation.name}”", inverse)
    return operation


@transaction.atomic
def operation_add_transformation(*, project: Project, user: Any, operation: Operation) -> Operation:
    if operation.transformation_id:
        return operation
    inverse = [_slots(operation)]
    taken = Transformation.objects.filter(project=project).values_list("name", flat=True)
    transformation = Transformation.objects.create(
        project=project, name=unique_name(operation.name, taken), updated_by=user
    )
    inverse.append({"op": "delete_transformation", "id": transformation.pk})
    operation.transformation = transformation
    _save_slots(operation, user, None)
    _record(project, user, f"Add a transformation to “{operation.name}”", inverse)
    return operation


# --------------------------------------------------------------------------------------------
# Operations as components
# --------------------------------------------------------------------------------------------


@transaction.atomic
def operation_create(*, project: Project, user: Any, name: str = NEW_OPERATION_NAME) -> Operation:
    operation = _new_operation(project, user, name)
    _record(
        project,
        user,
        f"Create “{operation.name}”",
        [{"op": "delete_operation", "id": operation.pk}],
    )
    return operation


@transaction.atomic
def operation_duplicate(*, project: Project, user: Any, operation: Operation) -> Operation:
    """Copy an operation: same activities, a copy of its transformation (its own mapping)."""
    inverse: list[dict[str, Any]] = []
    taken = Operation.objects.filter(project=project).values_list("name", flat=True)
    copy = Operation.objects.create(
        project=project,
        name=copy_name(operation.name, taken),
        source_id=operation.source_id,
        target_id=operation.target_id,
        position_x=operation.position_x,
        position_y=_next_position(project),
        timeout_seconds=operation.timeout_seconds,
        on_agent_lost=operation.on_agent_lost,
        updated_by=user,
    )
    inverse.append({"op": "delete_operation", "id": copy.pk})
    if operation.transformation_id:
        original = Transformation.objects.get(pk=operation.transformation_id)
        t_taken = Transformation.objects.filter(project=project).values_list("name", flat=True)
        transformation = Transformation.objects.create(
            project=project,
            name=unique_name(copy.name, t_taken),
            mapping=list(original.mapping),
            updated_by=user,
        )
        copy.transformation = transformation
        copy.save(update_fields=["transformation"])
        inverse.append({"op": "delete_transformation", "id": transformation.pk})
    _record(project, user, f"Duplicate “{operation.name}”", inverse)
    return copy


@transaction.atomic
def operation_delete(*, project: Project, user: Any, operation: Operation) -> None:
    fields = {
        "id": operation.pk,
        "name": operation.name,
        "source": operation.source_id,
        "target": operation.target_id,
        "transformation": operation.transformation_id,
        "position_x": operation.position_x,
        "position_y": operation.position_y,
        "timeout_seconds": operation.timeout_seconds,
        "on_agent_lost": operation.on_agent_lost,
    }
    operation.delete()
    _record(
        project, user, f"Delete “{fields['name']}”", [{"op": "restore_operation", "fields": fields}]
    )


def operation_rename(
    *, operation: Operation, expected_version: int | None, name: str, user: Any
) -> Operation:
    with name_taken_on_clash(f"An operation named “{name}” already exists."):
        operation.version = versioned_update(
            Operation, pk=operation.pk, expected_version=expected_version, user=user, name=name
        )
    operation.name = name
    return operation


@transaction.atomic
def activity_duplicate_on_canvas(*, project: Project, user: Any, activity: Activity) -> Activity:
    copy = activity_duplicate(activity=activity, user=user)
    _record(
        project, user, f"Duplicate “{activity.name}”", [{"op": "delete_activity", "id": copy.pk}]
    )
    return copy
