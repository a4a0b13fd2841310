"""What a user does to an operation's steps, each one undoable change: add a step (an
activity, a new activity of a type, or a tool; into an operation or a new one), remove one,
configure one. Built on ``designer.design.operations`` (the rules) and recorded with
``designer.design.undo``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from designer.design import operations, undo
from designer.design.models import (
    Activity,
    Connection,
    Operation,
    Step,
    StepKind,
    Workflow,
)
from designer.design.operations import PlacementRefused
from designer.design.services import activity_create_default
from designer.design.step_view import TOOLS
from designer.projects.models import Project


def _what(activity: Activity | None, tool: str) -> str:
    if activity is not None:
        return f"“{activity.name}”"
    return {
        "transformation": "a transformation",
        "script": "a script",
        "condition": "a condition",
        "invoke": "an invoke operation step",
    }[tool]


def activity_of_type(change: undo.Change, connection: Connection, activity_type: str) -> Activity:
    """A new activity of ``connection``'s ``activity_type`` (its defaults), recorded in
    ``change`` (undo deletes it); refused when the connector has no such type."""
    try:
        activity = activity_create_default(
            connection=connection, activity_type=activity_type, user=change.user
        )
    except KeyError:
        raise PlacementRefused(
            f"“{connection.name}” has no activity type {activity_type!r}."
        ) from None
    change.created(activity)
    return activity


def _operation_or_new(
    change: undo.Change,
    operation: Operation | None,
    expected_version: int | None,
    workflow: Workflow | None,
    at: tuple[int | None, int | None],
) -> tuple[Operation, int | None]:
    """The operation a step goes into, and the version to check it against: ``operation``
    as it is, or a new one in ``workflow`` where it was dropped (``at``: canvas pixels),
    recorded in ``change`` for undo, with no version to check."""
    if operation is not None:
        return operation, expected_version
    created = operations.operation_create(
        project=change.project,
        user=change.user,
        workflow=workflow,
        position_x=at[0],
        position_y=at[1],
    )
    change.created(created)
    return created, None


@transaction.atomic
def step_add(
    *,
    project: Project,
    user: Any,
    operation: Operation | None,
    workflow: Workflow | None = None,
    position: int | None = None,
    parent: Step | None = None,
    branch: str = "",
    activity: Activity | None = None,
    connection: Connection | None = None,
    activity_type: str = "",
    tool: str = "",
    expected_version: int | None = None,
    position_x: int | None = None,
    position_y: int | None = None,
) -> Step:
    """Add a step: ``activity``, or a new activity of ``connection``'s ``activity_type``, or
    a ``tool``; at ``position`` of ``operation``'s main chain (None: the end) or of a
    condition's branch (``parent``, ``branch``). No operation: a new one in ``workflow``
    (where it was dropped: ``position_x`` / ``position_y``, canvas pixels).

    Refused with the reason (``PlacementRefused``) and nothing saved when the chain would
    not be valid. One undo entry, whatever was created for it."""
    if tool and tool not in TOOLS:
        raise PlacementRefused(f"There is no {tool!r} tool.")
    if not tool and activity is None and (connection is None or not activity_type):
        raise PlacementRefused("Choose what to add: a tool or an activity.")
    tracked = [operation] if operation is not None else []
    with undo.recorded(
        project=project, user=user, label="Add a step", operations=tracked
    ) as change:
        if activity is None and not tool:
            assert connection is not None
            activity = activity_of_type(change, connection, activity_type)
        kind = StepKind(tool) if tool else operations.activity_role(activity)
        operation, expected_version = _operation_or_new(
            change, operation, expected_version, workflow, (position_x, position_y)
        )
        step = operations.step_insert(
            operation=operation,
            user=user,
            kind=kind,
            position=position,
            activity=activity if not tool else None,
            parent=parent,
            branch=branch,
            expected_version=expected_version,
        )
        if step.transformation_id:
            change.created(step.transformation)
        change.label = f"Add {_what(activity if not tool else None, tool)} to “{operation.name}”"
    return step


@transaction.atomic
def step_move_to(
    *,
    project: Project,
    user: Any,
    step: Step,
    operation: Operation | None,
    workflow: Workflow | None = None,
    position: int | None = None,
    parent: Step | None = None,
    branch: str = "",
    expected_version: int | None = None,
    position_x: int | None = None,
    position_y: int | None = None,
) -> Step:
    """Move a step to ``position`` (None: the end) of a chain of ``operation`` (None: a new
    one), as a gap names it: the place before the step now at ``position``. Within its own
    operation the step keeps its id; into another one it goes with its activity, mapping and
    settings. Refused with the reason when either chain would not be valid afterwards."""
    source = step.operation
    tracked = [source] + ([operation] if operation is not None else [])
    with undo.recorded(
        project=project, user=user, label="Move a step", operations=tracked
    ) as change:
        if operation is not None and operation.pk == source.pk:
            same_chain = (parent.pk if parent else None) == step.parent_id and (branch or "") == (
                step.branch or ""
            )
            end = Step.objects.filter(operation=source, parent=parent, branch=branch or "").count()
            place = end if position is None else position
            if same_chain and step.position < place:
                place -= 1  # the gap's place counts the step itself, which leaves it
            moved = operations.step_move(
                step=step,
                user=user,
                position=place,
                parent=parent,
                branch=branch,
                expected_version=expected_version,
            )
            change.label = f"Move a step of “{source.name}”"
            return moved
        if step.children.exists():
            raise PlacementRefused(
                "A condition moves to another operation without its branches only: "
                "empty its branches first."
            )
        kind, activity, transformation = step.kind, step.activity, step.transformation
        config = dict(step.config or {})
        operations.step_remove(step=step, user=user)
        operation, expected_version = _operation_or_new(
            change, operation, expected_version, workflow, (position_x, position_y)
        )
        moved = operations.step_insert(
            operation=operation,
            user=user,
            kind=kind,
            position=position,
            activity=activity,
            transformation=transformation,
            config=config,
            parent=parent,
            branch=branch,
            expected_version=expected_version,
        )
        change.label = f"Move a step from “{source.name}” to “{operation.name}”"
    return moved


def step_remove(*, project: Project, user: Any, step: Step, expected_version: int | None = None):
    operation = step.operation
    with undo.recorded(
        project=project,
        user=user,
        label=f"Remove a step from “{operation.name}”",
        operations=[operation],
    ):
        return operations.step_remove(step=step, user=user, expected_version=expected_version)


def step_configure(
    *,
    project: Project,
    user: Any,
    step: Step,
    config: dict[str, Any],
    expected_version: int | None = None,
) -> Step:
    operation = step.operation
    with undo.recorded(
        project=project,
        user=user,
        label=f"Change a step of “{operation.name}”",
        operations=[operation],
    ):
        return operations.step_configure(
            step=step, user=user, config=config, expected_version=expected_version
        )
