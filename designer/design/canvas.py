"""Canvas drops: an activity (or a new one of a type) dropped on the canvas or on an
operation's source or target place, and a placed source or target moved to another operation;
each one undoable change (recorded with ``designer.design.undo``), made of steps through
``designer.design.operations`` (its rules refuse a chain that would not run).

The canvas's own rules on top: an activity goes in the place of its role, an operation has
one source (its first step) and one target here (its last), and once it has both an empty
transformation named after the operation goes between them.
"""

from __future__ import annotations

from typing import Any

from designer.design import undo
from designer.design.models import Activity, Connection, Operation, Step, StepKind
from designer.design.operations import (
    NEW_OPERATION_NAME,
    PlacementRefused,
    activity_role,
    operation_create,
    step_insert,
    step_remove,
)
from designer.design.step_services import activity_of_type
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
    step = _main_step(operation, slot) if operation.pk else None
    current = step.activity if step else None
    if current is not None and current.pk != activity.pk:
        raise PlacementRefused(
            f"“{operation.name}” already has a {slot}, “{current.name}”: an operation has only "
            f"one {slot}. Remove it first."
        )


def _destination(
    change: undo.Change,
    operation: Operation | None,
    activity: Activity,
    slot: str,
    expected_version: int | None,
) -> tuple[Operation, int | None]:
    """(the operation ``activity`` goes into at ``slot``, the version to check it against).

    None means a new operation (nothing to check); an existing one has the place checked.
    Raises PlacementRefused.
    """
    if operation is None:
        if slot != activity_role(activity):
            _check_place(Operation(name=NEW_OPERATION_NAME), activity, slot)
        operation = operation_create(project=change.project, user=change.user)
        change.created(operation)
        return operation, None
    _check_place(operation, activity, slot)
    change.track(operation)
    return operation, expected_version


def _place(
    change: undo.Change,
    operation: Operation,
    activity: Activity,
    slot: str,
    expected_version: int | None,
) -> None:
    """The source as the first step, the target as the last; with both ends and no
    transformation yet, an empty one (named after the operation) before the target."""
    if _main_step(operation, slot) is not None:
        return  # already there (_check_place refused another activity)
    step_insert(
        operation=operation,
        user=change.user,
        kind=slot,
        position=0 if slot == "source" else None,
        activity=activity,
        expected_version=expected_version,
    )
    target = _main_step(operation, StepKind.TARGET)
    has_source = _main_step(operation, StepKind.SOURCE) is not None
    if not has_source or target is None or _main_step(operation, StepKind.TRANSFORMATION):
        return
    mapping = step_insert(
        operation=operation,
        user=change.user,
        kind=StepKind.TRANSFORMATION,
        position=target.position,
        expected_version=None,
    )
    change.created(mapping.transformation)


def _main_step(operation: Operation, kind: str) -> Step | None:
    return (
        Step.objects.filter(operation=operation, parent__isnull=True, kind=kind)
        .order_by("position", "pk")
        .first()
    )


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
        is_new = operation is None
        operation, expected_version = _destination(
            change, operation, placed, slot, expected_version
        )
        if is_new:
            change.label = f"Add “{placed.name}” to a new operation"
        else:
            change.label = f"Add “{placed.name}” to “{operation.name}”"
        _place(change, operation, placed, slot, expected_version)
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
    """Move a placed source or target to another operation (or to a new one)."""
    moving = _main_step(from_operation, from_slot) if from_slot in SLOTS else None
    if moving is None or moving.activity is None:
        raise PlacementRefused(f"“{from_operation.name}” has no {from_slot} to move.")
    activity: Activity = moving.activity
    if to_operation is not None and to_operation.pk == from_operation.pk:
        return from_operation
    slot = to_slot or activity_role(activity)
    with undo.recorded(
        project=project, user=user, label="Move", operations=[from_operation]
    ) as change:
        to_operation, expected_version = _destination(
            change, to_operation, activity, slot, expected_version
        )
        step_remove(step=moving, user=user)
        _place(change, to_operation, activity, slot, expected_version)
        change.label = (
            f"Move “{activity.name}” from “{from_operation.name}” to “{to_operation.name}”"
        )
    return to_operation
