"""Canvas writes: operations and the activities placed in them, each change undoable
(recorded with ``designer.design.undo``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max

from designer.design import undo
from designer.design.models import Activity, Connection, Operation, Transformation
from designer.design.services import (
    activity_create_default,
    activity_duplicate,
    copy_name,
    name_taken_on_clash,
    unique_name,
)
from designer.design.versioning import versioned_update
from designer.projects.models import Project

SLOTS = ("source", "target")
NEW_OPERATION_NAME = "New Operation"


class PlacementRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def _ensure_transformation(operation: Operation, user: Any) -> None:
    """Both ends set and no transformation yet: make an empty one named after the operation."""
    if operation.source_id and operation.target_id and not operation.transformation_id:
        taken = Transformation.objects.filter(project_id=operation.project_id).values_list(
            "name", flat=True
        )
        operation.transformation = Transformation.objects.create(
            project_id=operation.project_id,
            name=unique_name(operation.name, taken),
            updated_by=user,
        )


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


# Where a new operation goes when nobody says where: below the lowest card, in canvas pixels.
NEW_X = 40
ROW_HEIGHT = 220


def next_position(project: Project, workflow: Any = None) -> tuple[int, int]:
    ops = Operation.objects.filter(project=project)
    if workflow is not None:
        ops = ops.filter(workflow=workflow)
    top = ops.aggregate(m=Max("position_y"))["m"]
    return NEW_X, (NEW_X if top is None else top + ROW_HEIGHT)


def new_operation(
    project: Project,
    user: Any,
    name: str = NEW_OPERATION_NAME,
    *,
    workflow: Any = None,
    position: tuple[int, int] | None = None,
) -> Operation:
    taken = Operation.objects.filter(project=project).values_list("name", flat=True)
    x, y = position if position is not None else next_position(project, workflow)
    return Operation.objects.create(
        project=project,
        workflow=workflow,
        name=unique_name(name, taken),
        position_x=x,
        position_y=y,
        updated_by=user,
    )


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
        if slot != _role(activity):
            _check_place(Operation(name=NEW_OPERATION_NAME), activity, slot)
        operation = new_operation(change.project, change.user)
        change.created(operation)
        return operation, True
    _check_place(operation, activity, slot)
    change.track(operation)
    return operation, False


def resolve_activity(
    *,
    change: undo.Change,
    activity: Activity | None,
    connection: Connection | None,
    activity_type: str,
) -> Activity:
    """The dropped activity, or a new one made from the dropped activity type."""
    if activity is not None:
        return activity
    if connection is None or not activity_type:
        raise PlacementRefused("Drop an activity or an activity type.")
    try:
        created = activity_create_default(
            connection=connection, activity_type=activity_type, user=change.user
        )
    except KeyError:
        raise PlacementRefused(
            f"“{connection.name}” has no activity type {activity_type!r}."
        ) from None
    change.created(created)
    return created


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
        placed = resolve_activity(
            change=change, activity=activity, connection=connection, activity_type=activity_type
        )
        slot = slot or _role(placed)
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
    slot = to_slot or _role(activity)
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
    label = f"Remove “{removed.name}” from “{operation.name}”"
    with undo.recorded(project=project, user=user, label=label, operations=[operation]):
        setattr(operation, slot, None)
        _save_slots(operation, user, expected_version)
    return operation


# --------------------------------------------------------------------------------------------
# Operations as components
# --------------------------------------------------------------------------------------------


def operation_create(
    *, project: Project, user: Any, name: str = NEW_OPERATION_NAME, workflow: Any = None
) -> Operation:
    with undo.recorded(project=project, user=user, label="Create") as change:
        operation = new_operation(project, user, name, workflow=workflow)
        change.created(operation)
        change.label = f"Create “{operation.name}”"
    return operation


def operation_duplicate(*, project: Project, user: Any, operation: Operation) -> Operation:
    """Copy an operation: same activities, a copy of its transformation (its own mapping)."""
    with undo.recorded(project=project, user=user, label=f"Duplicate “{operation.name}”") as ch:
        taken = Operation.objects.filter(project=project).values_list("name", flat=True)
        copy = Operation.objects.create(
            project=project,
            workflow_id=operation.workflow_id,
            name=copy_name(operation.name, taken),
            source_id=operation.source_id,
            target_id=operation.target_id,
            position_x=operation.position_x + 40,
            position_y=operation.position_y + 40,
            timeout_seconds=operation.timeout_seconds,
            on_agent_lost=operation.on_agent_lost,
            updated_by=user,
        )
        if operation.transformation_id:
            original = Transformation.objects.get(pk=operation.transformation_id)
            t_taken = Transformation.objects.filter(project=project).values_list("name", flat=True)
            copy.transformation = Transformation.objects.create(
                project=project,
                name=unique_name(copy.name, t_taken),
                mapping=list(original.mapping),
                updated_by=user,
            )
            copy.save(update_fields=["transformation"])
        ch.created(copy)
    return copy


def operation_delete(*, project: Project, user: Any, operation: Operation) -> None:
    label = f"Delete “{operation.name}”"
    with undo.recorded(project=project, user=user, label=label, operations=[operation]):
        operation.delete()


def operation_rename(
    *, operation: Operation, expected_version: int | None, name: str, user: Any
) -> Operation:
    with name_taken_on_clash(f"An operation named “{name}” already exists."):
        operation.version = versioned_update(
            Operation, pk=operation.pk, expected_version=expected_version, user=user, name=name
        )
    operation.name = name
    return operation


def activity_duplicate_on_canvas(*, project: Project, user: Any, activity: Activity) -> Activity:
    with undo.recorded(project=project, user=user, label=f"Duplicate “{activity.name}”") as ch:
        copy = activity_duplicate(activity=activity, user=user)
        ch.created(copy)
    return copy
