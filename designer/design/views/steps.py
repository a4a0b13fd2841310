"""An operation's steps: add one (a palette drop, a tool, the keyboard "Add a step" dialog)
at any place of its chain, remove one. Thin over ``designer.design.step_services``.

A change answers with one request: the message for ``#designer-flash`` (a live region, so it
is announced) and the operation's steps out of band (``_steps.html``). A refused placement
answers with ``validate_chain``'s reason and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from designer.design import services, step_services
from designer.design.models import Activity, Connection, Operation, Step, Workflow
from designer.design.operations import PlacementRefused
from designer.design.selectors import prefetch_steps
from designer.design.step_view import TOOL_NAMES as TOOLS
from designer.design.step_view import chain_of
from designer.design.versioning import StaleVersion
from designer.design.views.common import (
    activity_type_or_404,
    base_context,
    board_answer,
    flash,
    int_or_none,
    optional_or_404,
)
from designer.projects.access import Capability, ProjectAccess, project_view

STEP_ADDED = "step-added"  # the client event that puts the focus on the new step


@dataclass
class Placing:
    """What is being added: an activity, a new activity of a type, or a tool."""

    title: str
    activity: Activity | None = None
    connection: Connection | None = None
    activity_type: str = ""
    tool: str = ""
    moving: Step | None = None  # a placed step, moved elsewhere

    @property
    def hidden(self) -> dict[str, Any]:
        """The fields that say what is placed, for the dialog's form."""
        if self.moving is not None:
            return {"from_step": self.moving.pk}
        if self.activity is not None:
            return {"activity": self.activity.pk}
        if self.connection is not None:
            return {"connection": self.connection.pk, "activity_type": self.activity_type}
        return {"tool": self.tool}


def _placing(access: ProjectAccess, params: Any) -> Placing:
    if params.get("from_step"):
        moving = _step(access, int_or_none(params.get("from_step")) or 0)
        item = _item(moving)
        return Placing(f"step {item.number}, “{item.label}”," if item else "a step", moving=moving)
    activity = optional_or_404(Activity, access, params.get("activity"))
    if activity is not None:
        return Placing(f"“{activity.name}”", activity=activity)
    connection = optional_or_404(Connection, access, params.get("connection"))
    if connection is not None:
        kind = activity_type_or_404(connection, params.get("activity_type", ""))
        return Placing(
            f"a new {kind.name} activity of “{connection.name}”",
            connection=connection,
            activity_type=kind.key,
        )
    tool = params.get("tool", "")
    if tool in TOOLS:
        return Placing(f"a {TOOLS[tool]} step", tool=tool)
    raise Http404("Nothing to add")


def _positions(operation: Operation | None) -> list[tuple[str, str]]:
    """(value, label) of the places a step can go in ``operation``'s main chain, end first."""
    if operation is None:
        return [("", "As its first step")]
    prefetch_steps([operation])
    chain = chain_of(operation)
    places = [
        ("", f"At the end (after step {chain.count})" if chain.count else "As its first step")
    ]
    for item in chain.steps:
        places.append((str(item.number - 1), f"Before step {item.number}: {item.label}"))
    for item in chain.steps:
        for branch, title, items in item.branches:
            places.append(
                (
                    f"{item.step.pk}:{branch}",
                    f"At the end of the {title} branch of step {item.number}",
                )
            )
            del items
    return places


def _current_workflow(access: ProjectAccess, params: Any) -> Workflow | None:
    workflow = optional_or_404(Workflow, access, params.get("workflow"))
    return (
        workflow or Workflow.objects.filter(project=access.project).order_by("order", "id").first()
    )


@project_view(Capability.DESIGN)
@require_http_methods(["GET", "POST"])
def step_add(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """GET: the keyboard way to add a step (which operation, which place). POST: add it."""
    if request.method == "POST":
        return _add(request, access)
    params = request.GET
    placing = _placing(access, params) if _names_a_thing(params) else None
    operation = optional_or_404(Operation, access, params.get("operation"))
    if "positions" in params:  # the operation changed in the dialog: its places only
        return render(
            request,
            "design/step_add.html#positions",
            base_context(request, access, positions=_positions(operation)),
        )
    position = params.get("position", "")
    parent = params.get("parent", "")
    chosen = f"{parent}:{params.get('branch', '')}" if parent else position
    context = base_context(
        request,
        access,
        placing=placing,
        operation=operation,
        operations=Operation.objects.filter(project=access.project).order_by("name", "id"),
        positions=_positions(operation),
        chosen=chosen,
        tools=TOOLS,
        choices=_choices(access) if placing is None else [],
        workflow=_current_workflow(access, params),
    )
    return render(request, "design/step_add.html", context)


def _names_a_thing(params: Any) -> bool:
    return bool(
        params.get("activity")
        or params.get("connection")
        or params.get("tool")
        or params.get("from_step")
    )


def _choices(access: ProjectAccess) -> list[tuple[str, list[tuple[str, str]]]]:
    """What a "+" gap can add: (group, [(value, label)]): the tools, then each endpoint's
    activities. Values are "tool:script" or "activity:12"."""
    groups = [("Tools", [(f"tool:{key}", name) for key, name in TOOLS.items()])]
    activities = Activity.objects.filter(project=access.project).select_related("connection")
    by_endpoint: dict[str, list[tuple[str, str]]] = {}
    for activity in activities.order_by("connection__name", "name", "id"):
        try:
            role = activity.role
        except KeyError:
            continue  # its connector is not installed here
        by_endpoint.setdefault(activity.connection.name, []).append(
            (f"activity:{activity.pk}", f"{activity.name} ({role})")
        )
    groups += sorted(by_endpoint.items())
    return groups


def _from_choice(post: Any) -> dict[str, str]:
    """The dialog's single "what" select ("tool:script", "activity:12") as form fields."""
    what = post.get("what", "")
    kind, _, value = what.partition(":")
    if kind in ("tool", "activity") and value:
        return {kind: value}
    return {}


def _split_position(value: str) -> tuple[int | None, str, str]:
    """(position, parent id, branch) from the dialog's place: "3", "" (the end), "12:true"."""
    if ":" in value:
        parent, _, branch = value.partition(":")
        return None, parent, branch
    return int_or_none(value), "", ""


def _add(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    post = request.POST.copy()
    post.update(_from_choice(post))
    if not _names_a_thing(post):
        return flash(request, access, "Choose what to add: a tool or an activity.", ok=False)
    placing = _placing(access, post)
    operation = optional_or_404(Operation, access, post.get("operation"))
    position, parent_id, branch = _split_position(post.get("position", ""))
    parent_id = parent_id or post.get("parent", "")
    branch = branch or post.get("branch", "")
    parent = None
    if parent_id:
        parent = get_object_or_404(
            Step, pk=int_or_none(parent_id) or 0, operation__project=access.project
        )
        operation = parent.operation
    if placing.moving is not None:
        return _move(request, access, placing.moving, operation, position, parent, branch, post)
    try:
        step = step_services.step_add(
            project=access.project,
            user=request.user,
            operation=operation,
            workflow=_current_workflow(access, post) if operation is None else None,
            position=position,
            parent=parent,
            branch=branch,
            activity=placing.activity,
            connection=placing.connection,
            activity_type=placing.activity_type,
            tool=placing.tool,
            expected_version=int_or_none(post.get("version")),
            position_x=int_or_none(post.get("x")),
            position_y=int_or_none(post.get("y")),
        )
    except (PlacementRefused, StaleVersion, services.NameTaken) as exc:
        return flash(request, access, exc.message, ok=False)
    step.operation.refresh_from_db()
    # Anything but a script, condition or invoke step changes what the palette (an activity
    # in use, a new one), the Components pane (a new mapping) or the board (a new card) show.
    created = operation is None or placing.tool in ("", "transformation")
    item = _item(step)
    where = f"step {item.number} of “{step.operation.name}”"
    message = f"Added {item.kind_name.lower()} “{item.label}” as {where}."
    return _changed(
        request,
        access,
        step.operation,
        message,
        focus=step.pk,
        close_dialog=True,
        created=created,
    )


def _move(
    request: HttpRequest,
    access: ProjectAccess,
    step: Step,
    operation: Operation | None,
    position: int | None,
    parent: Step | None,
    branch: str,
    post: Any,
) -> HttpResponse:
    from_operation = step.operation
    try:
        moved = step_services.step_move_to(
            project=access.project,
            user=request.user,
            step=step,
            operation=operation,
            workflow=_current_workflow(access, post) if operation is None else None,
            position=position,
            parent=parent,
            branch=branch,
            expected_version=int_or_none(post.get("version")),
            position_x=int_or_none(post.get("x")),
            position_y=int_or_none(post.get("y")),
        )
    except (PlacementRefused, StaleVersion) as exc:
        return flash(request, access, exc.message, ok=False)
    moved.operation.refresh_from_db()
    item = _item(moved)
    where = f"step {item.number} of “{moved.operation.name}”"
    return _changed(
        request,
        access,
        moved.operation,
        f"Moved {item.kind_name.lower()} “{item.label}” to {where}.",
        focus=moved.pk,
        close_dialog=True,
        # Another operation changed too: the board answers with both cards.
        created=moved.operation_id != from_operation.pk,
    )


def _item(step: Step):
    """The step as its card shows it (its number and label)."""
    prefetch_steps([step.operation])
    chain = chain_of(step.operation)

    def find(items):
        for item in items:
            if item.step.pk == step.pk:
                return item
            for _branch, _title, kids in item.branches:
                found = find(kids)
                if found is not None:
                    return found
        return None

    return find(chain.steps)


def _changed(
    request: HttpRequest,
    access: ProjectAccess,
    operation: Operation,
    message: str,
    *,
    focus: int | None = None,
    close_dialog: bool = False,
    created: bool = False,
) -> HttpResponse:
    """One answer: the message (announced in #designer-flash) and the operation's steps out of
    band; when the change created something the palette, the board or the Components pane
    list (a new operation, activity or transformation), those too."""
    if not request.htmx:
        return flash(request, access, message)
    if created:
        response = board_answer(request, access, message, panes=True, workflow=operation.workflow)
    else:
        response = render(
            request,
            "design/designer.html#flash",
            {"message": message, "ok": True, "project": access.project},
        )
        prefetch_steps([operation])  # the steps and what they show, not a query per step
        steps = render_to_string(
            "design/_steps.html",
            base_context(request, access, operation=operation, steps_oob=True),
            request=request,
        )
        response.content += steps.encode()
    if focus is not None:
        # Before "close-dialog": htmx fires these events on the element that sent the request
        # and the dialog's form is gone once the dialog closes (its events would reach nobody).
        trigger_client_event(response, STEP_ADDED, {"step": focus}, after="settle")
    if close_dialog:
        # The message goes to the page, not into the closing dialog (see views.common.flash).
        retarget(response, "#designer-flash")
        reswap(response, "innerHTML")
        trigger_client_event(response, "close-dialog", after="settle")
    return response


def _step(access: ProjectAccess, step_id: int) -> Step:
    return get_object_or_404(
        Step.objects.select_related("operation", "activity__connection", "transformation"),
        operation__project=access.project,
        pk=step_id,
    )


@project_view(Capability.DESIGN)
@require_POST
def step_remove(request: HttpRequest, access: ProjectAccess, step_id: int) -> HttpResponse:
    step = _step(access, step_id)
    operation = step.operation
    item = _item(step)
    try:
        step_services.step_remove(
            project=access.project,
            user=request.user,
            step=step,
            expected_version=int_or_none(request.POST.get("version")),
        )
    except (PlacementRefused, StaleVersion) as exc:
        return flash(request, access, exc.message, ok=False)
    operation.refresh_from_db()
    label = f"step {item.number}, “{item.label}”," if item else "the step"
    return _changed(request, access, operation, f"Removed {label} from “{operation.name}”.")
