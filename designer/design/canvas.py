"""Canvas drops: an activity (or a new one of a type) dropped on the canvas or on an
operation's place, and a placed activity moved to another operation; each one undoable change
(recorded with ``designer.design.undo``). Operations themselves (create, copy, the rules) are
``designer.design.operations``'.
"""

from __future__ import annotations

from typing import Any

from designer.design import undo
from designer.design.models import Activity, Connection, Operation
from designer.design.operations import (
    NEW_OPERATION_NAME,
    PlacementRefused,
    activity_role,
    new_transformation,
    operation_create,
)
from designer.design.step_services import activity_of_type
from designer.design.versioning import versioned_update
from designer.projects.models import Project

SLOTS = ("source", "target")


def _check_place(operation: Operation, activity: Activity, slot: str) -> None:
    role = activity_role(activity)
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


def _ensure_transformation(operation: Operation, user: Any) -> None:
    """Both ends set and no transformation yet: make an empty one named after the operation."""
    if operation.source_id and operation.target_id and not operation.transformation_id:
        operation.transformation = new_transformation(operation.project_id, operation.name, user)


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
    # A queryset update: the steps follow the slots as a save would make them.
    operation._steps_follow_slots()


def _destination(
    change: undo.Change,
    operation: Operation | None,
    activity: Activity,
    slot: str,
) -> tuple[Operation, bool]:
    """(the operation ``activity`` goes into at ``slot``, whether it is new).

    None means a new operation; an existing one has the place checked. Raises PlacementRefused.
    """
    if operation is None:
        if slot != activity_role(activity):
            _check_place(Operation(name=NEW_OPERATION_NAME), activity, slot)
        operation = operation_create(project=change.project, user=change.user)
        change.created(operation)
        return operation, True
    _check_place(operation, activity, slot)
    change.track(operation)
    return operation, False


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
    with undo.recorded(project=project, user=user, label="Add") as change:
        if activity is None and (connection is None or not activity_type):
            raise PlacementRefused("Drop an activity or an activity type.")
        placed = activity or activity_of_type(change, connection, activity_type)
        slot = slot or activity_role(placed)
        operation, is_new = _destination(change, operation, placed, slot)
        if is_new:
            expected_version = None
            change.label = f"Add “{placed.name}” to a new operation"
        else:
            change.label = f"Add “{placed.name}” to “{operation.name}”"
        setattr(operation, slot, placed)
        _ensure_transformation(operation, user)
        _save_slots(operation, user, expected_version)
    return operation


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
    slot = to_slot or activity_role(activity)
    with undo.recorded(
        project=project, user=user, label="Move", operations=[from_operation]
    ) as change:
        to_operation, is_new = _destination(change, to_operation, activity, slot)
        if is_new:
            expected_version = None
        setattr(from_operation, from_slot, None)
        _save_slots(from_operation, user, None)
        setattr(to_operation, slot, activity)
        _ensure_transformation(to_operation, user)
        _save_slots(to_operation, user, expected_version)
        change.label = (
            f"Move “{activity.name}” from “{from_operation.name}” to “{to_operation.name}”"
        )
    return to_operation
