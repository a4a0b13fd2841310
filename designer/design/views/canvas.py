"""The canvas: the board (moving, chain arrows, tidy up, the selection's Delete / Duplicate /
Paste, the live run status), Undo / Redo and New operation. What is dropped on the canvas or
on a card (an activity, a new one of a type, a tool, a step moved) is a step:
``views.steps.step_add``, which the keyboard dialog posts to as well."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from designer.design import board, operations, undo
from designer.design.models import Operation, Workflow, default_workflow
from designer.design.selectors import designer_data
from designer.design.versioning import StaleVersion
from designer.design.views.common import (
    base_context,
    board_answer,
    int_or_none,
    optional_or_404,
)
from designer.projects.access import (
    Capability,
    ProjectAccess,
    get_project_access,
    project_view,
)


def _operation(access: ProjectAccess, operation_id: int) -> Operation:
    return get_object_or_404(Operation, project=access.project, pk=operation_id)


def _workflow(access: ProjectAccess, value: Any) -> Workflow | None:
    return optional_or_404(Workflow, access, value)


@project_view(Capability.DESIGN)
@require_POST
def operation_new(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """The toolbar's "New operation": in the workflow shown (none named: the default one)."""
    workflow = _workflow(access, request.POST.get("workflow"))
    with undo.recorded(project=access.project, user=request.user, label="Create") as change:
        operation = operations.operation_create(
            project=access.project, user=request.user, workflow=workflow
        )
        change.created(operation)
        change.label = f"Create “{operation.name}”"
    return board_answer(request, access, f"Created “{operation.name}”.", panes=True)


@project_view(Capability.DESIGN)
@require_POST
def canvas_undo(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    return _history(request, access, undo.undo, "Undone", "Nothing to undo.")


@project_view(Capability.DESIGN)
@require_POST
def canvas_redo(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    return _history(request, access, undo.redo, "Redone", "Nothing to redo.")


def _history(
    request: HttpRequest, access: ProjectAccess, step: Any, done: str, nothing: str
) -> HttpResponse:
    try:
        label = step(project=access.project, user=request.user)
    except StaleVersion as exc:
        return board_answer(request, access, exc.message, ok=False)
    if label is None:
        return board_answer(request, access, nothing, ok=False)
    return board_answer(request, access, f"{done}: {label}.", panes=True)


# --------------------------------------------------------------------------------------------
# The board: moving, chain arrows, tidy up, the selection (one request per edit)
# --------------------------------------------------------------------------------------------


@project_view(Capability.DESIGN)
@require_POST
def board_move(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """Operations dropped at new places: ``moves`` is JSON [{id, version, x, y}, ...]."""
    try:
        moves = [
            board.Move(int(m["id"]), int_or_none(m.get("version")), int(m["x"]), int(m["y"]))
            for m in json.loads(request.POST.get("moves", "[]"))
        ]
    except (ValueError, TypeError, KeyError):
        return board_answer(
            request, access, "Not moved: the positions were not readable.", ok=False
        )
    if not moves:
        return board_answer(request, access, "Nothing to move.", ok=False)
    try:
        moved = board.move_operations(project=access.project, user=request.user, moves=moves)
    except StaleVersion as exc:
        return board_answer(request, access, f"Not moved: {exc.message}", ok=False)
    what = f"“{moved[0].name}”" if len(moved) == 1 else f"{len(moved)} operations"
    return board_answer(request, access, f"Moved {what}.")


@project_view(Capability.DESIGN)
@require_POST
def board_chain(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """Draw (``to``) or remove (``to`` empty) an operation's chain arrow of ``kind``."""
    post = request.POST
    operation = _operation(access, int_or_none(post.get("operation")) or 0)
    to = optional_or_404(Operation, access, post.get("to"))
    try:
        board.chain_set(
            project=access.project,
            user=request.user,
            operation=operation,
            kind=post.get("kind", ""),
            to=to,
            expected_version=int_or_none(post.get("version")),
        )
    except (board.ChainRefused, StaleVersion) as exc:
        return board_answer(request, access, exc.message, ok=False)
    name = board.CHAINS[post["kind"]]
    if to is None:
        return board_answer(request, access, f"Removed the {name} arrow of “{operation.name}”.")
    return board_answer(request, access, f"{name}: “{operation.name}” now starts “{to.name}”.")


@project_view(Capability.DESIGN)
@require_POST
def board_tidy(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    workflow = _workflow(access, request.POST.get("workflow")) or default_workflow(access.project)
    moved = board.tidy(project=access.project, user=request.user, workflow=workflow)
    if not moved:
        return board_answer(request, access, "Already tidy.", workflow=workflow)
    return board_answer(request, access, f"Tidied up {moved} operations.", workflow=workflow)


SELECTION_ACTIONS = ("delete", "duplicate", "move")


@project_view(Capability.DESIGN)
@require_POST
def board_selection(request: HttpRequest, access: ProjectAccess, action: str) -> HttpResponse:
    """Delete or Duplicate the selected operations (``ops``: ids, comma separated), or move
    them to another workflow (``to_workflow``)."""
    if action not in SELECTION_ACTIONS:
        raise Http404("No such action")
    ops = board.operations_of(access.project, request.POST.get("ops", "").split(","))
    if not ops:
        return board_answer(request, access, "Select one or more operations first.", ok=False)
    project, user = access.project, request.user
    if action == "delete":
        board.delete_operations(project=project, user=user, ops=ops)
        return board_answer(request, access, f"Deleted {_names(ops)}.", panes=True)
    if action == "duplicate":
        copies = board.copy_operations(
            project=project, user=user, ops=ops, workflow=ops[0].workflow, verb="Duplicate"
        )
        response = board_answer(request, access, f"Duplicated {_names(ops)}.", panes=True)
        return trigger_client_event(response, "board-select", {"ids": [c.pk for c in copies]})
    to = _workflow(access, request.POST.get("to_workflow"))
    if to is None:
        return board_answer(request, access, "Choose the workflow to move to.", ok=False)
    try:
        board.move_to_workflow(project=project, user=user, ops=ops, workflow=to)
    except (operations.PlacementRefused, StaleVersion) as exc:
        return board_answer(request, access, exc.message, ok=False)
    return board_answer(request, access, f"Moved {_names(ops)} to “{to.name}”.")


def _names(ops: list[Operation]) -> str:
    return f"“{ops[0].name}”" if len(ops) == 1 else f"{len(ops)} operations"


@project_view(Capability.DESIGN)
@require_POST
def board_paste(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """Paste operations copied in this project or another one the user may read.

    The copy names its project and operations; the operations are read from that project,
    through the same access check as any page of it (an outsider's copy pastes nothing)."""
    post = request.POST
    source_id = int_or_none(post.get("source_project"))
    try:
        source = get_project_access(request.user, source_id or 0, Capability.VIEW).project
    except Http404:
        return board_answer(request, access, "Nothing to paste: copy operations first.", ok=False)
    ops = board.operations_of(source, post.get("ops", "").split(","))
    if not ops:
        return board_answer(request, access, "Nothing to paste: copy operations first.", ok=False)
    workflow = _workflow(access, post.get("workflow")) or default_workflow(access.project)
    same = source.pk == access.project.pk and all(op.workflow_id == workflow.pk for op in ops)
    report = operations.CopyReport()
    copies = board.copy_operations(
        project=access.project,
        user=request.user,
        ops=ops,
        workflow=workflow,
        offset=(40, 40) if same else (0, 0),
        report=report,
    )
    where = "" if source.pk == access.project.pk else f" from “{source.name}”"
    # Which endpoints the copies use here: a shared global one, or one made without credentials.
    message = f"Pasted {_names(ops)}{where}. {report.note()}".strip()
    response = board_answer(request, access, message, panes=True, workflow=workflow)
    return trigger_client_event(response, "board-select", {"ids": [c.pk for c in copies]})


@project_view(Capability.VIEW)
@require_GET
def board_status(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """The live last-run badges of the workflow shown, when any changed (else 204)."""
    workflow = _workflow(access, request.GET.get("workflow"))
    data = designer_data(access.project, request.user, workflow.pk if workflow else None)
    if request.GET.get("seen") == data.runs_seen:
        return HttpResponse(status=204)
    return render(request, "design/board_status.html", base_context(request, access, data=data))


@project_view(Capability.DESIGN)
@require_http_methods(["GET", "POST"])
def operation_chains(
    request: HttpRequest, access: ProjectAccess, operation_id: int
) -> HttpResponse:
    """The keyboard path to the arrows and the workflow: three lists and a workflow list."""
    operation = _operation(access, operation_id)
    if request.method == "POST":
        return _save_chains(request, access, operation)
    others = Operation.objects.filter(project=access.project).exclude(pk=operation.pk)
    return render(
        request,
        "design/operation_chains.html",
        base_context(
            request,
            access,
            operation=operation,
            others=others.select_related("workflow").order_by("workflow__order", "name"),
            workflows=Workflow.objects.filter(project=access.project),
            kinds=[
                (k, label, getattr(operation, f"on_{k}_id")) for k, label in board.CHAINS.items()
            ],
        ),
    )


def _save_chains(request: HttpRequest, access: ProjectAccess, operation: Operation) -> HttpResponse:
    post = request.POST
    chosen = {kind: optional_or_404(Operation, access, post.get(kind)) for kind in board.CHAINS}
    workflow = _workflow(access, post.get("workflow"))
    try:
        board.chains_save(
            project=access.project,
            user=request.user,
            operation=operation,
            chains=chosen,
            workflow=workflow,
            expected_version=int_or_none(post.get("version")),
        )
    except (board.ChainRefused, operations.PlacementRefused, StaleVersion) as exc:
        return board_answer(request, access, exc.message, ok=False)
    response = board_answer(request, access, f"Saved the chains of “{operation.name}”.")
    return trigger_client_event(response, "close-dialog", after="settle")
