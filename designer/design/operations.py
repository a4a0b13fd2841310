"""Operation services for the canvas: the steps of an operation (insert, move, remove,
configure, and the placement rules of ``validate_chain``), operations (create, rename, copy,
move between workflows), the transformations steps make, and workflows (create, rename,
reorder, delete).

None of these records an undo entry: the views wrap them in ``designer.design.undo.recorded``
so one user action is one undo step, whatever services it calls.

Every step change bumps the operation's version (a stale copy is refused).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max

from designer.audit.services import steps_snapshot
from designer.design import integrations
from designer.design.models import (
    Activity,
    Branch,
    Connection,
    Operation,
    Step,
    StepKind,
    Transformation,
    Workflow,
)
from designer.design.services import NameTaken, copy_name, name_taken_on_clash, unique_name
from designer.design.versioning import versioned_update
from designer.projects.models import Project

NEW_OPERATION_NAME = "New Operation"
NEW_WORKFLOW_NAME = "Workflow"
CONDITION_MODES = ("route", "filter")
PASS_ON = ("response", "input")
ROW_HEIGHT = 220  # canvas pixels between operations placed one under another


class PlacementRefused(Exception):
    """A change the placement rules refuse; ``message`` says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------
# Placement rules
# --------------------------------------------------------------------------------------------


def _label(step: Step) -> str:
    if step.kind in (StepKind.SOURCE, StepKind.TARGET) and step.activity_id:
        return f"“{step.activity.name}”"
    if step.kind == StepKind.TRANSFORMATION and step.transformation_id:
        return f"the transformation “{step.transformation.name}”"
    return {
        StepKind.SOURCE: "the source",
        StepKind.TARGET: "the target",
        StepKind.TRANSFORMATION: "the transformation",
        StepKind.SCRIPT: "the script",
        StepKind.CONDITION: "the condition",
        StepKind.INVOKE: "the invoke operation step",
    }[step.kind]


def activity_role(activity: Activity) -> str:
    """The activity's role (source, target...), refused when its connector is not installed."""
    try:
        return activity.role
    except KeyError:
        raise PlacementRefused(
            f"“{activity.name}” belongs to a connector that is not installed here."
        ) from None


def chains(steps: Iterable[Step]) -> dict[tuple[Any, str], list[Step]]:
    """Steps by chain: (None, "") is the main chain, (condition, "true"/"false") its branches;
    each chain in position order. Keys hold the parent's id (None for the main chain)."""
    by_key: dict[tuple[Any, str], list[Step]] = defaultdict(list)
    for step in steps:
        by_key[(step.parent_id, step.branch or "")].append(step)
    for chain in by_key.values():
        chain.sort(key=lambda s: (s.position, s.pk or 0))
    return by_key


def validate_chain(steps: Sequence[Step]) -> str | None:
    """Why this set of steps (all of one operation) can't run as drawn; None if it can.

    A source only first on the main chain; anything that needs records (a target, a
    transformation, a script, a condition) needs a step giving records before it; a routing
    condition ends its chain (what follows goes in its branches), a filtering one has no
    branches; branches hang only under a condition. Nothing after an invoke-without-wait or a
    target is special: a target's response (or its input) flows on.
    """
    by_key = chains(steps)
    conditions = {_identity(s): s for s in steps if s.kind == StepKind.CONDITION}
    for (parent, branch), chain in by_key.items():
        if parent is None:
            if branch:
                return "A branch step needs its condition."
        else:
            condition = conditions.get(parent)
            if condition is None:
                return "Only a condition has branches."
            if branch not in (Branch.TRUE, Branch.FALSE):
                return "A condition's steps go in its True or its False branch."
            if (condition.config or {}).get("mode", "route") == "filter":
                return (
                    f"{_label(condition).capitalize()} filters records: it has no branches. "
                    "Set it to route records to use branches."
                )
        has_records = parent is not None  # a branch gets the condition's records
        for index, step in enumerate(chain):
            if step.kind == StepKind.SOURCE:
                if parent is not None or index != 0:
                    return (
                        f"A source can only be the first step of an operation: "
                        f"{_label(step)} can't go after other steps."
                    )
                has_records = True
                continue
            if step.kind == StepKind.INVOKE:
                has_records = True  # without records it runs the operation once
                continue
            if not has_records:
                what = {
                    StepKind.TARGET: "A target needs records to write",
                    StepKind.CONDITION: "A condition needs records to test",
                }.get(step.kind, f"{_label(step).capitalize()} needs records to work on")
                return f"{what}: put a source (or another step giving records) before it."
            if step.kind == StepKind.CONDITION:
                mode = (step.config or {}).get("mode", "route")
                if mode not in CONDITION_MODES:
                    return "A condition either routes records or filters them."
                if mode == "route" and index != len(chain) - 1:
                    return (
                        f"{_label(step).capitalize()} routes each record to its True or False "
                        "branch: put the steps after it in a branch."
                    )
    return None


def _identity(step: Step) -> Any:
    return step.pk if step.pk is not None else id(step)


def _check_step(step: Step) -> None:
    """The step itself makes sense (kind, what it points at, its configuration)."""
    if step.kind not in StepKind.values:
        raise PlacementRefused(f"There is no {step.kind!r} step.")
    if step.kind in (StepKind.SOURCE, StepKind.TARGET):
        if step.activity_id is None:
            raise PlacementRefused(f"A {step.kind} step needs an activity.")
        role = activity_role(step.activity)
        if role != step.kind:
            raise PlacementRefused(
                f"“{step.activity.name}” is a {role} activity: it can't be used as a "
                f"{step.kind} step."
            )
    config = step.config or {}
    if step.kind == StepKind.TARGET and config.get("pass_on", "response") not in PASS_ON:
        raise PlacementRefused("A target passes on either its response or its input records.")
    text = config.get("script") if step.kind == StepKind.SCRIPT else config.get("expression")
    if step.kind in (StepKind.SCRIPT, StepKind.CONDITION) and str(text or "").strip():
        # A new tool starts empty; what is written must compile (the line is named).
        problem = integrations.step_config_problem(step.kind, config)
        if problem:
            raise PlacementRefused(f"{_label(step).capitalize()}: {problem}")
    if step.kind == StepKind.INVOKE and config.get("operation"):
        invoked = Operation.objects.filter(
            pk=config["operation"], project_id=step.operation.project_id
        ).first()
        if invoked is None:
            raise PlacementRefused("The operation to invoke is not in this project.")
        if invoked.pk == step.operation_id:
            raise PlacementRefused("An operation can't invoke itself.")
        loop = _invoke_loop(step.operation, invoked.pk)
        if loop:
            raise PlacementRefused("These invoke steps would loop: " + " → ".join(loop))


def _invoke_loop(operation: Operation, invoked_id: int) -> list[str] | None:
    """The operation names of the loop invoking ``invoked_id`` from ``operation`` would close
    (through other operations' invoke steps), or None. Two queries."""
    edges: dict[int, set[int]] = defaultdict(set)
    for source_id, config in Step.objects.filter(
        operation__project_id=operation.project_id, kind=StepKind.INVOKE
    ).values_list("operation_id", "config"):
        target = (config or {}).get("operation")
        if isinstance(target, int):
            edges[source_id].add(target)
    stack: list[tuple[int, list[int]]] = [(invoked_id, [operation.pk, invoked_id])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node == operation.pk:
            names = dict(Operation.objects.filter(pk__in=path).values_list("pk", "name"))
            return [names.get(pk, "?") for pk in path]
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in edges.get(node, ()))
    return None


def _refuse_if_invalid(steps: Sequence[Step]) -> None:
    reason = validate_chain(steps)
    if reason:
        raise PlacementRefused(reason)


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


def _all_steps(operation: Operation) -> list[Step]:
    return list(
        Step.objects.filter(operation=operation).select_related(
            "activity__connection", "transformation"
        )
    )


def _renumber(steps: Iterable[Step]) -> list[Step]:
    """Positions 0..n-1 in every chain; returns the steps whose position changed."""
    changed = []
    for chain in chains(steps).values():
        for position, step in enumerate(chain):
            if step.position != position:
                step.position = position
                changed.append(step)
    return changed


def _save_operation(
    operation: Operation,
    user: Any,
    expected_version: int | None,
    steps_before: list[dict[str, Any]] | None = None,
) -> None:
    """Bump the operation's version (refusing a stale copy): its steps changed. The history
    entry's "before" has ``steps_before`` (the chain before the change, ``steps_snapshot``)."""
    operation.version = versioned_update(
        Operation,
        pk=operation.pk,
        expected_version=expected_version,
        user=user,
        audit_before=None if steps_before is None else {"steps": steps_before},
    )


def new_transformation(
    project_id: int, name: str, user: Any, mapping: Sequence[Any] = ()
) -> Transformation:
    """A transformation named ``name`` (or "name 2"... when taken in the project): every
    transformation a step or a copy makes is made here."""
    taken = Transformation.objects.filter(project_id=project_id).values_list("name", flat=True)
    return Transformation.objects.create(
        project_id=project_id,
        name=unique_name(name, taken),
        mapping=list(mapping),
        updated_by=user,
    )


def plain_chain(
    operation: Operation,
    *,
    source: Activity | None = None,
    transformation: Transformation | None = None,
    target: Activity | None = None,
) -> list[Step]:
    """Steps [source, transformation, target] (those given, in that order) for a new
    operation: what the demo, a version 1 import, benchmarks and test data start from."""
    chain = [
        Step(operation=operation, kind=StepKind.SOURCE, activity=source),
        Step(operation=operation, kind=StepKind.TRANSFORMATION, transformation=transformation),
        Step(operation=operation, kind=StepKind.TARGET, activity=target),
    ]
    chain = [s for s in chain if s.activity is not None or s.transformation is not None]
    for position, step in enumerate(chain):
        step.position = position
    return Step.objects.bulk_create(chain)


@transaction.atomic
def step_insert(
    *,
    operation: Operation,
    user: Any,
    kind: str,
    position: int | None = None,
    activity: Activity | None = None,
    transformation: Transformation | None = None,
    config: dict[str, Any] | None = None,
    parent: Step | None = None,
    branch: str = "",
    expected_version: int | None = None,
) -> Step:
    """Put a new step at ``position`` (None: the end) of a chain; the steps from there on
    move one to the right. Refused (nothing saved) when the chain would not be valid."""
    if activity is not None and activity.project_id != operation.project_id:
        raise PlacementRefused("That activity belongs to another project.")
    if parent is not None and parent.operation_id != operation.pk:
        raise PlacementRefused("That condition belongs to another operation.")
    steps = _all_steps(operation)
    before = steps_snapshot(steps)
    chain = chains(steps).get((parent.pk if parent else None, branch or ""), [])
    if position is None or position > len(chain):
        position = len(chain)
    position = max(0, position)
    for step in chain[position:]:
        step.position += 1
    new = Step(
        operation=operation,
        parent=parent,
        branch=branch or "",
        position=position,
        kind=kind,
        activity=activity,
        transformation=transformation,
        config=dict(config or {}),
    )
    if kind == StepKind.TARGET and "pass_on" not in new.config:
        new.config["pass_on"] = "response"
    if kind == StepKind.CONDITION and "mode" not in new.config:
        new.config["mode"] = "route"
    _check_step(new)
    _refuse_if_invalid([*steps, new])
    if kind == StepKind.TRANSFORMATION and transformation is None:
        new.transformation = new_transformation(operation.project_id, operation.name, user)
    Step.objects.bulk_update(chain[position:], ["position"])
    new.save()
    _save_operation(operation, user, expected_version, before)
    return new


@transaction.atomic
def step_move(
    *,
    step: Step,
    user: Any,
    position: int,
    parent: Step | None = None,
    branch: str = "",
    expected_version: int | None = None,
) -> Step:
    """Move a step to ``position`` of a chain of the same operation (its branch steps, if it
    is a condition, go with it)."""
    operation = step.operation
    if parent is not None and (parent.operation_id != operation.pk or parent.pk == step.pk):
        raise PlacementRefused("A step can't move into that place.")
    steps = _all_steps(operation)
    before = steps_snapshot(steps)
    moving = next(s for s in steps if s.pk == step.pk)
    target_key = (parent.pk if parent else None, branch or "")
    chain = [s for s in chains(steps).get(target_key, []) if s.pk != step.pk]
    position = max(0, min(position, len(chain)))
    chain.insert(position, moving)
    moving.parent_id = parent.pk if parent else None
    moving.branch = branch or ""
    for index, s in enumerate(chain):
        s.position = index
    _renumber(steps)
    _refuse_if_invalid(steps)
    Step.objects.bulk_update(steps, ["position", "parent", "branch"])
    _save_operation(operation, user, expected_version, before)
    return moving


@transaction.atomic
def step_remove(*, step: Step, user: Any, expected_version: int | None = None) -> Operation:
    """Remove a step (a condition takes its branches with it); what was after it moves left.
    Removing the source of an operation that still has steps after it is allowed: the
    operation is then incomplete (shown so) rather than refused mid-edit."""
    operation = step.operation
    every = _all_steps(operation)
    before = steps_snapshot(every)
    steps = [s for s in every if s.pk != step.pk and s.parent_id != step.pk]
    changed = _renumber(steps)
    step.delete()
    Step.objects.bulk_update(changed, ["position"])
    _save_operation(operation, user, expected_version, before)
    return operation


@transaction.atomic
def step_configure(
    *, step: Step, user: Any, config: dict[str, Any], expected_version: int | None = None
) -> Step:
    """Replace a step's configuration (script text, condition expression and mode, invoke
    operation and wait, a target's pass_on). Refused when the chain would not be valid (a
    condition with branches switched to filter)."""
    config = dict(config)
    if step.kind == StepKind.INVOKE and config.get("operation") not in (None, ""):
        try:
            config["operation"] = int(config["operation"])
        except (TypeError, ValueError):
            raise PlacementRefused("Choose the operation to invoke.") from None
        config["wait"] = bool(config.get("wait"))
    steps = _all_steps(step.operation)
    before = steps_snapshot(steps)
    current = next(s for s in steps if s.pk == step.pk)
    current.config = config
    _check_step(current)
    _refuse_if_invalid(steps)
    Step.objects.filter(pk=step.pk).update(config=config)
    step.config = config
    _save_operation(step.operation, user, expected_version, before)
    return step


# --------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------


def _next_y(workflow: Workflow) -> int:
    top = Operation.objects.filter(workflow=workflow).aggregate(m=Max("position_y"))["m"]
    return 40 if top is None else top + ROW_HEIGHT


@transaction.atomic
def operation_create(
    *,
    project: Project,
    user: Any,
    workflow: Workflow | None = None,
    name: str = NEW_OPERATION_NAME,
    position_x: int | None = None,
    position_y: int | None = None,
) -> Operation:
    if workflow is None:
        workflow = project.workflows.order_by("order", "id").first() or workflow_create(
            project=project, user=user
        )
    if workflow.project_id != project.pk:
        raise PlacementRefused("That workflow belongs to another project.")
    taken = Operation.objects.filter(project=project).values_list("name", flat=True)
    return Operation.objects.create(
        project=project,
        workflow=workflow,
        name=unique_name(name, taken),
        position_x=40 if position_x is None else position_x,
        position_y=_next_y(workflow) if position_y is None else position_y,
        updated_by=user,
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
def operation_move_to_workflow(
    *, operation: Operation, workflow: Workflow, user: Any, expected_version: int | None = None
) -> Operation:
    if workflow.project_id != operation.project_id:
        raise PlacementRefused("An operation moves only between workflows of its project.")
    if workflow.pk == operation.workflow_id:
        return operation
    operation.version = versioned_update(
        Operation,
        pk=operation.pk,
        expected_version=expected_version,
        user=user,
        workflow_id=workflow.pk,
    )
    operation.workflow = workflow
    return operation


@dataclass
class CopyReport:
    """What a copy into another project did with its activities' endpoints, for the answer's
    note (each endpoint once, keyed by the id of the one copied from)."""

    made: dict[int, Connection] = field(default_factory=dict)  # the target's new endpoints
    global_used: dict[int, Connection] = field(default_factory=dict)  # shared: used as is
    # Not shared with the target: (the global endpoint, the target's endpoint used instead).
    global_unshared: dict[int, tuple[Connection, Connection]] = field(default_factory=dict)

    def note(self) -> str:
        notes = []
        if self.global_used:
            notes.append(
                f"Their activities use the global {_endpoints(self.global_used)} here too "
                "(shared with this project)."
            )
        for source_id, (shared, own) in self.global_unshared.items():
            how = (
                "a new endpoint with its settings and no credentials: add them, or ask staff "
                "to share the global endpoint with this project"
                if source_id in self.made
                else "found by its name"
            )
            notes.append(
                f"The global endpoint “{shared.name}” is not shared with this project: its "
                f"activities were copied onto this project's own endpoint “{own.name}” ({how})."
            )
        others = [c for pk, c in self.made.items() if pk not in self.global_unshared]
        if others:
            notes.append(
                f"{_endpoints(others).capitalize()} made here have no credentials: add them "
                "before running."
            )
        return " ".join(notes)


def _endpoints(connections: Iterable[Connection] | dict[int, Connection]) -> str:
    found = list(connections.values() if isinstance(connections, dict) else connections)
    names = ", ".join(f"“{c.name}”" for c in found)
    return f"endpoint {names}" if len(found) == 1 else f"endpoints {names}"


def _shared_with(project: Project, connection: Connection) -> bool:
    """Whether the global endpoint may take ``project``'s activities: read under its row lock,
    which an unsharing holds while it checks who uses it (as services.activity_create does)."""
    row = Connection.objects.select_for_update().filter(pk=connection.pk).first()
    return row is not None and Connection.objects.global_for(project).filter(pk=row.pk).exists()


def _connection_in(
    project: Project, connection: Connection, user: Any, report: CopyReport
) -> Connection:
    """The endpoint ``project``'s copy of an activity goes on: a global endpoint shared with
    it as it is; else the same-named connection of ``project`` (same connector), or a copy
    of this one WITHOUT its credentials: secrets never travel between projects."""
    if connection.is_global and _shared_with(project, connection):
        report.global_used[connection.pk] = connection
        return connection
    found = Connection.objects.filter(
        project=project, name=connection.name, connector_key=connection.connector_key
    ).first()
    if found is None:
        taken = Connection.objects.filter(project=project).values_list("name", flat=True)
        found = Connection.objects.create(
            project=project,
            connector_key=connection.connector_key,
            name=unique_name(connection.name, taken),
            config=dict(connection.config or {}),
            updated_by=user,
        )
        report.made[connection.pk] = found
    if connection.is_global:
        report.global_unshared[connection.pk] = (connection, found)
    return found


def _activity_in(
    project: Project,
    activity: Activity,
    user: Any,
    memo: dict[int, Activity],
    report: CopyReport,
) -> Activity:
    if activity.project_id == project.pk:
        return activity
    if activity.pk in memo:
        return memo[activity.pk]
    connection = _connection_in(project, activity.connection, user, report)
    # A global endpoint carries every sharing project's activities: only the target's count.
    mine = connection.activities.filter(project=project)
    found = mine.filter(name=activity.name, activity_type=activity.activity_type).first()
    if found is None:
        found = Activity.objects.create(
            project=project,
            connection=connection,
            activity_type=activity.activity_type,
            name=unique_name(activity.name, mine.values_list("name", flat=True)),
            config=dict(activity.config or {}),
            updated_by=user,
        )
    memo[activity.pk] = found
    return found


@transaction.atomic
def operation_copy(
    *,
    operation: Operation,
    user: Any,
    workflow: Workflow,
    position_x: int | None = None,
    position_y: int | None = None,
    report: CopyReport | None = None,
) -> Operation:
    """A copy of the operation with its steps, in ``workflow`` (this project or another).

    Transformations are copied (each copy has its own mapping); activities are shared within
    the project, and in another project found by connection and name or copied there: onto a
    global endpoint shared with that project as it is, else into a connection of that project
    without credentials (``report`` collects which, for the answer's note). Chain arrows are
    not copied (they point elsewhere); an invoke step keeps its operation only within the
    same project.
    """
    report = CopyReport() if report is None else report
    project = workflow.project
    same_project = project.pk == operation.project_id
    taken = Operation.objects.filter(project=project).values_list("name", flat=True)
    copy = Operation.objects.create(
        project=project,
        workflow=workflow,
        name=copy_name(operation.name, taken)
        if same_project
        else unique_name(operation.name, taken),
        position_x=operation.position_x + 40 if position_x is None else position_x,
        position_y=operation.position_y + 40 if position_y is None else position_y,
        timeout_seconds=operation.timeout_seconds,
        on_agent_lost=operation.on_agent_lost,
        updated_by=user,
    )
    memo: dict[int, Activity] = {}
    new_ids: dict[int, Step] = {}
    originals = sorted(
        _all_steps(operation), key=lambda s: (s.parent_id is not None, s.position, s.pk)
    )
    for step in originals:
        transformation = None
        if step.transformation_id:
            transformation = new_transformation(
                project.pk,
                copy.name if step.kind == StepKind.TRANSFORMATION else step.transformation.name,
                user,
                mapping=step.transformation.mapping or [],
            )
        config = dict(step.config or {})
        if step.kind == StepKind.INVOKE and not same_project:
            config.pop("operation", None)
        new_ids[step.pk] = Step.objects.create(
            operation=copy,
            parent=new_ids.get(step.parent_id) if step.parent_id else None,
            branch=step.branch,
            position=step.position,
            kind=step.kind,
            activity=_activity_in(project, step.activity, user, memo, report)
            if step.activity
            else None,
            transformation=transformation,
            config=config,
        )
    _save_operation(copy, user, None)
    return copy


# --------------------------------------------------------------------------------------------
# Workflows
# --------------------------------------------------------------------------------------------


def _workflow_name_taken(name: str) -> str:
    return f"A workflow named “{name}” already exists in this project."


@transaction.atomic
def workflow_create(*, project: Project, user: Any, name: str | None = None) -> Workflow:
    existing = list(project.workflows.values_list("name", "order"))
    taken = [n for n, _ in existing]
    if name:
        if name.lower() in {n.lower() for n in taken}:
            raise NameTaken(_workflow_name_taken(name))
    else:
        name = unique_name(f"{NEW_WORKFLOW_NAME} {len(existing) + 1}", taken)
    order = max((o for _, o in existing), default=-1) + 1
    workflow = Workflow(project=project, name=name, order=order, updated_by=user)
    workflow.full_clean(exclude=["project", "updated_by"], validate_unique=False)
    with name_taken_on_clash(_workflow_name_taken(name)):
        workflow.save()
    return workflow


def workflow_rename(
    *, workflow: Workflow, user: Any, name: str, expected_version: int | None = None
) -> Workflow:
    workflow.name = name
    workflow.full_clean(exclude=["project", "updated_by"], validate_unique=False)
    with name_taken_on_clash(_workflow_name_taken(name)):
        workflow.version = versioned_update(
            Workflow, pk=workflow.pk, expected_version=expected_version, user=user, name=name
        )
    return workflow


@transaction.atomic
def workflow_reorder(*, project: Project, user: Any, ids: Sequence[int]) -> list[Workflow]:
    """Put the project's workflows in this order (ids not named keep their turn after)."""
    workflows = list(project.workflows.order_by("order", "id"))
    by_id = {w.pk: w for w in workflows}
    ordered = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
    ordered += [w for w in workflows if w not in ordered]
    for order, workflow in enumerate(ordered):
        if workflow.order != order:
            Workflow.objects.filter(pk=workflow.pk).update(order=order)
            workflow.order = order
    return ordered


@transaction.atomic
def workflow_delete(*, workflow: Workflow, user: Any) -> None:
    """Delete a workflow and its operations; the project's last workflow stays."""
    if not Workflow.objects.filter(project_id=workflow.project_id).exclude(pk=workflow.pk).exists():
        raise PlacementRefused("A project keeps at least one workflow.")
    workflow.delete()
