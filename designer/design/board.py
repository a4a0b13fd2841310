"""The board: what is done to operations as shapes on a workflow's canvas.

Moving (free layout, saved with the operation's version), chain arrows (On Success / On Fail /
On Complete, loops refused), "Tidy up", and the selection's Delete, Duplicate and Paste. Each
is one undoable change (``designer.design.undo``), whatever number of operations it touches.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from designer.design import operations, undo
from designer.design.models import Operation, Workflow
from designer.design.versioning import StaleVersion, stale_message, versioned_update
from designer.projects.models import Project

CHAINS = {"success": "On Success", "fail": "On Fail", "complete": "On Complete"}
# Tidy-up grid: one column per depth along the arrows, in canvas pixels.
TIDY_LEFT, TIDY_TOP, TIDY_COLUMN, TIDY_ROW = 40, 40, 560, 220
# The canvas is big but not endless (a stray drag far away stays reachable with "Fit").
LIMIT = 100_000


class ChainRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Move:
    operation_id: int
    version: int | None
    x: int
    y: int


def _clamp(value: int) -> int:
    return max(-LIMIT, min(LIMIT, int(value)))


def move_operations(*, project: Project, user: Any, moves: Sequence[Move]) -> list[Operation]:
    """Place operations where they were dropped. Each names the version it was dragged from:
    a stale one (someone else changed that operation meanwhile) refuses the whole move.
    Two people moving different operations don't touch each other's rows."""
    by_id = {m.operation_id: m for m in moves}
    ops = list(Operation.objects.filter(project=project, pk__in=by_id))
    if len(ops) != len(by_id):
        raise StaleVersion("An operation you moved was deleted by someone else — reload.")
    label = f"Move “{ops[0].name}”" if len(ops) == 1 else f"Move {len(ops)} operations"
    with undo.recorded(project=project, user=user, label=label, operations=ops):
        for op in ops:
            move = by_id[op.pk]
            op.position_x, op.position_y = _clamp(move.x), _clamp(move.y)
            op.version = versioned_update(
                Operation,
                pk=op.pk,
                expected_version=move.version,
                user=user,
                position_x=op.position_x,
                position_y=op.position_y,
            )
    return ops


def _targets(op: Operation) -> list[int]:
    return [t for t in (op.on_success_id, op.on_fail_id, op.on_complete_id) if t]


def chain_loop(project: Project, source: Operation, to: Operation) -> list[Operation] | None:
    """The operations of the loop an arrow source -> to would close, or None."""
    ops = {op.pk: op for op in Operation.objects.filter(project=project)}
    came_from: dict[int, int | None] = {to.pk: None}
    queue = deque([to.pk])
    while queue:
        current = queue.popleft()
        if current == source.pk:
            path = []
            at: int | None = current
            while at is not None:
                path.append(ops[at])
                at = came_from[at]
            return [source, *reversed(path)]  # source -> to -> ... -> source
        for nxt in _targets(ops[current]):
            if nxt in ops and nxt not in came_from:
                came_from[nxt] = current
                queue.append(nxt)
    return None


def _check_chain(project: Project, operation: Operation, kind: str, to: Operation | None) -> None:
    if kind not in CHAINS:
        raise ChainRefused(f"There is no {kind!r} chain.")
    if to is None:
        return
    if to.project_id != project.pk:
        raise ChainRefused("An operation can only start operations of its own project.")
    if to.pk == operation.pk:
        raise ChainRefused(f"Refused: “{operation.name}” can't start itself (a loop).")
    loop = chain_loop(project, operation, to)
    if loop:
        names = " → ".join(f"“{op.name}”" for op in loop)
        raise ChainRefused(f"Refused: that arrow would make a loop ({names}).")


def chain_set(
    *,
    project: Project,
    user: Any,
    operation: Operation,
    kind: str,
    to: Operation | None,
    expected_version: int | None = None,
) -> Operation:
    """Point ``operation``'s On Success / On Fail / On Complete arrow at ``to`` (None: remove)."""
    _check_chain(project, operation, kind, to)
    name = CHAINS[kind]
    if to is None:
        label = f"Remove the {name} arrow of “{operation.name}”"
    else:
        label = f"{name}: “{operation.name}” → “{to.name}”"
    with undo.recorded(project=project, user=user, label=label, operations=[operation]):
        _set_link(operation, kind, to, user, expected_version)
    return operation


def _set_link(
    operation: Operation, kind: str, to: Operation | None, user: Any, expected: int | None
) -> None:
    operation.version = versioned_update(
        Operation,
        pk=operation.pk,
        expected_version=expected,
        user=user,
        **{f"on_{kind}_id": to.pk if to else None},
    )
    setattr(operation, f"on_{kind}_id", to.pk if to else None)


def chains_save(
    *,
    project: Project,
    user: Any,
    operation: Operation,
    chains: dict[str, Operation | None],
    workflow: Workflow | None = None,
    expected_version: int | None = None,
) -> Operation:
    """The keyboard path: all three arrows (and the workflow) of one operation at once."""
    changed = {
        k: to for k, to in chains.items() if getattr(operation, f"on_{k}_id") != (to and to.pk)
    }
    moving = workflow is not None and workflow.pk != operation.workflow_id
    if not changed and not moving:
        return operation
    label = f"Change the chains of “{operation.name}”"
    with undo.recorded(project=project, user=user, label=label, operations=[operation]):
        for kind, to in changed.items():
            _check_chain(project, operation, kind, to)  # against the arrows saved so far
            _set_link(operation, kind, to, user, expected_version)
            expected_version = operation.version
        if moving:
            operations.operation_move_to_workflow(
                operation=operation, workflow=workflow, user=user, expected_version=expected_version
            )
    return operation


def move_to_workflow(
    *, project: Project, user: Any, ops: Sequence[Operation], workflow: Workflow
) -> None:
    """Move the selection to another tab (by dragging onto it, or from the menu)."""
    with undo.recorded(
        project=project, user=user, label=_label(f"Move to “{workflow.name}”:", ops), operations=ops
    ):
        for op in ops:
            operations.operation_move_to_workflow(operation=op, workflow=workflow, user=user)


def tidy_layout(ops: Sequence[Operation]) -> dict[int, tuple[int, int]]:
    """Columns by depth along the arrows (an operation sits right of those that start it),
    rows in the order they were (top to bottom, then left to right)."""
    ids = {op.pk for op in ops}
    depth = {op.pk: 0 for op in ops}
    ordered = sorted(ops, key=lambda o: (o.position_y, o.position_x, o.pk))
    # Longest path from a start (arrows never loop, so len(ops) rounds are enough).
    for _ in range(len(ops)):
        changed = False
        for op in ordered:
            for nxt in _targets(op):
                if nxt in ids and depth[nxt] < depth[op.pk] + 1:
                    depth[nxt] = depth[op.pk] + 1
                    changed = True
        if not changed:
            break
    rows: dict[int, int] = {}
    places = {}
    for op in ordered:
        column = depth[op.pk]
        row = rows.get(column, 0)
        rows[column] = row + 1
        places[op.pk] = (TIDY_LEFT + column * TIDY_COLUMN, TIDY_TOP + row * TIDY_ROW)
    return places


def tidy(*, project: Project, user: Any, workflow: Workflow) -> int:
    """Lay out the workflow's operations (one undoable change); how many moved."""
    ops = list(Operation.objects.filter(project=project, workflow=workflow))
    places = tidy_layout(ops)
    moves = [
        Move(op.pk, None, *places[op.pk])
        for op in ops
        if (op.position_x, op.position_y) != places[op.pk]
    ]
    if moves:
        with undo.recorded(
            project=project, user=user, label=f"Tidy up “{workflow.name}”", operations=ops
        ):
            for move in moves:
                versioned_update(
                    Operation,
                    pk=move.operation_id,
                    expected_version=None,
                    user=user,
                    position_x=move.x,
                    position_y=move.y,
                )
    return len(moves)


def _label(verb: str, ops: Sequence[Operation]) -> str:
    return f"{verb} “{ops[0].name}”" if len(ops) == 1 else f"{verb} {len(ops)} operations"


def delete_operations(*, project: Project, user: Any, ops: Sequence[Operation]) -> None:
    """Delete the selection; Undo brings back the operations, their steps and the arrows."""
    if not ops:
        return
    with undo.recorded(project=project, user=user, label=_label("Delete", ops), operations=ops):
        Operation.objects.filter(project=project, pk__in=[op.pk for op in ops]).delete()


def copy_operations(
    *,
    project: Project,
    user: Any,
    ops: Sequence[Operation],
    workflow: Workflow,
    offset: tuple[int, int] = (40, 40),
    verb: str = "Paste",
    report: operations.CopyReport | None = None,
) -> list[Operation]:
    """Copies of ``ops`` with their steps in ``workflow`` (of ``project``: this or another
    project). Arrows between copied operations are copied too; credentials never are
    (``operations.operation_copy`` uses a global endpoint shared with ``project`` as it is,
    and makes a missing endpoint without them; ``report`` says which, for the answer)."""
    if not ops:
        return []
    if workflow.project_id != project.pk:
        raise ValueError("The workflow is not the project's")
    mapping: dict[int, Operation] = {}
    with undo.recorded(project=project, user=user, label=_label(verb, ops)) as change:
        dx, dy = offset
        for op in sorted(ops, key=lambda o: (o.position_y, o.position_x, o.pk)):
            copy = operations.operation_copy(
                operation=op,
                user=user,
                workflow=workflow,
                position_x=_clamp(op.position_x + dx),
                position_y=_clamp(op.position_y + dy),
                report=report,
            )
            mapping[op.pk] = copy
            change.created(copy)
        for op in ops:
            links = {
                f"on_{kind}_id": mapping[target].pk
                for kind in CHAINS
                if (target := getattr(op, f"on_{kind}_id")) in mapping
            }
            if links:
                Operation.objects.filter(pk=mapping[op.pk].pk).update(**links)
    return [mapping[op.pk] for op in ops]


def operations_of(project: Project, ids: Iterable[Any]) -> list[Operation]:
    """The project's operations among ``ids`` (others, and junk, are ignored)."""
    wanted = {int(i) for i in ids if str(i).strip().isdigit()}
    return list(Operation.objects.filter(project=project, pk__in=wanted))


def check_versions(ops: Sequence[Operation], versions: dict[int, int]) -> None:
    """Refuse a change made on a stale copy of any of ``ops``."""
    for op in ops:
        expected = versions.get(op.pk)
        if expected is not None and expected != op.version:
            raise StaleVersion(stale_message(Operation, op.pk))
