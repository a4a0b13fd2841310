"""An operation's steps through the views: added by drop or by the keyboard dialog at any place
of the chain (activities, new activities of a type, tools; into a new operation too), refused
with the reason when the chain would not be valid (nothing saved), removed, undone; the answer
is one response holding the announced message and the card's steps out of band."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.urls import reverse

from designer.design import undo
from designer.design.models import Activity, Operation, Step, StepKind, Transformation
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def things(project, fake_connector):
    connection = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    return {
        "connection": connection,
        "query": ActivityFactory(connection=connection, activity_type="query", name="All contacts"),
        "create": ActivityFactory(
            connection=connection, activity_type="create", name="Add contact"
        ),
        "update": ActivityFactory(
            connection=connection, activity_type="update", name="Change contact"
        ),
    }


def chain(operation: Operation) -> list[tuple[str, str]]:
    """The main chain as (kind, name) pairs, left to right."""
    steps = Step.objects.filter(operation=operation, parent=None).order_by("position")
    out = []
    for step in steps.select_related("activity", "transformation"):
        name = (
            step.activity.name
            if step.activity
            else step.transformation.name
            if step.transformation
            else ""
        )
        out.append((step.kind, name))
    return out


def add(client, project, **values):
    response = client.post(
        reverse("design:step_add", args=[project.pk]),
        {k: str(v) for k, v in values.items()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content
    return unescape(response.content.decode()), response


def steps_tag(html: str, operation: Operation) -> str:
    match = re.search(rf'<ol class="steps chain" id="steps-{operation.pk}"[^>]*>', html)
    assert match, html
    return match.group(0)


def empty_operation(project, name="Sync") -> Operation:
    return OperationFactory(project=project, name=name)


def test_an_activity_dropped_on_an_empty_operation_becomes_its_first_step(
    client_for, project, things
):
    operation = empty_operation(project)
    html, response = add(
        client_for("editor"),
        project,
        activity=things["query"].pk,
        operation=operation.pk,
        version=operation.version,
    )
    assert chain(operation) == [("source", "All contacts")]
    # One answer: the announced message, and the card's steps out of band.
    assert "Added source “All contacts” as step 1 of “Sync”." in html
    assert f'id="steps-{operation.pk}"' in html and 'hx-swap-oob="true"' in html
    # The activity is now in use: the board and the panes come out of band, the steps inside
    # the board (a nested out-of-band list would be swapped on its own, then lost).
    assert "hx-swap-oob" not in steps_tag(html, operation)
    step = Step.objects.get(operation=operation)
    triggers = json.loads(response["HX-Trigger-After-Settle"])
    assert triggers["step-added"] == {"step": step.pk}


def test_a_tool_goes_between_steps_and_the_rest_moves_right(client_for, project, things):
    operation = empty_operation(project)
    client = client_for("editor")
    add(client, project, activity=things["query"].pk, operation=operation.pk)
    add(client, project, activity=things["create"].pk, operation=operation.pk)
    html, _ = add(client, project, tool="transformation", operation=operation.pk, position=1)
    assert chain(operation) == [
        ("source", "All contacts"),
        ("transformation", "Sync"),  # a new, empty mapping named after the operation
        ("target", "Add contact"),
    ]
    assert Transformation.objects.get(name="Sync").mapping == []
    assert "as step 2 of “Sync”" in html
    # The card shows them left to right, with a "+" gap before each and one at the end.
    positions = [int(p) for p in re.findall(r'data-drop-position="(\d+)"', html.split("steps-")[1])]
    assert positions == [0, 1, 2, 3]


def test_response_transformation_and_second_target_after_a_target(client_for, project, things):
    """The five-step pattern: source, mapping, target, response mapping, a further target."""
    operation = empty_operation(project)
    client = client_for("editor")
    for values in (
        {"activity": things["query"].pk},
        {"tool": "transformation"},
        {"activity": things["create"].pk},
        {"tool": "transformation"},
        {"activity": things["update"].pk},
    ):
        add(client, project, operation=operation.pk, **values)
    assert [kind for kind, _ in chain(operation)] == [
        "source",
        "transformation",
        "target",
        "transformation",
        "target",
    ]
    page = client.get(reverse("design:designer", args=[project.pk])).content.decode()
    assert "Response transformation" in page


@pytest.mark.parametrize(
    ("first", "then", "reason"),
    [
        (
            {"activity": "query"},
            {"activity": "query2", "position": 1},
            "A source can only be the first step of an operation",
        ),
        ({}, {"activity": "create"}, "A target needs records to write"),
        ({}, {"tool": "condition"}, "A condition needs records to test"),
    ],
)
def test_invalid_placements_are_refused_with_the_reason_and_nothing_is_saved(
    client_for, project, things, first, then, reason
):
    things["query2"] = ActivityFactory(
        connection=things["connection"], activity_type="query", name="Other contacts"
    )
    operation = empty_operation(project)
    client = client_for("editor")
    if first:
        add(client, project, operation=operation.pk, activity=things[first["activity"]].pk)
    before = chain(operation)
    values = dict(then)
    if "activity" in values:
        values["activity"] = things[values["activity"]].pk
    html, response = add(client, project, operation=operation.pk, **values)
    assert reason in html
    assert 'role="alert"' in html
    assert "designer-changed" not in response.get("HX-Trigger", "")
    assert chain(operation) == before
    assert Transformation.objects.count() == 0


def test_a_refused_drop_of_an_activity_type_leaves_no_new_activity(client_for, project, things):
    operation = empty_operation(project)
    count = Activity.objects.count()
    html, _ = add(
        client_for("editor"),
        project,
        operation=operation.pk,
        connection=things["connection"].pk,
        activity_type="create",
    )
    assert "A target needs records to write" in html
    assert Activity.objects.count() == count


def test_a_drop_of_an_activity_type_makes_the_activity(client_for, project, things):
    operation = empty_operation(project)
    add(
        client_for("editor"),
        project,
        operation=operation.pk,
        connection=things["connection"].pk,
        activity_type="query",
    )
    step = Step.objects.get(operation=operation)
    assert step.kind == StepKind.SOURCE and step.activity.activity_type == "query"
    assert step.activity.name == "Query"


def test_no_operation_means_a_new_one_in_the_workflow(client_for, project, things):
    workflow = project.workflows.get()
    html, _ = add(client_for("editor"), project, activity=things["query"].pk)
    operation = Operation.objects.get(project=project)
    assert operation.workflow == workflow and operation.name == "New Operation"
    assert chain(operation) == [("source", "All contacts")]
    assert "as step 1 of “New Operation”" in html


def test_a_stale_card_is_refused(client_for, project, things):
    operation = empty_operation(project)
    client = client_for("editor")
    stale = operation.version
    add(client, project, operation=operation.pk, activity=things["query"].pk, version=stale)
    html, _ = add(client, project, operation=operation.pk, tool="transformation", version=stale)
    assert "editor" in html and 'role="alert"' in html  # names who changed it
    assert chain(operation) == [("source", "All contacts")]


def test_remove_moves_the_rest_left_and_undo_puts_it_back(client_for, project, personas, things):
    operation = empty_operation(project)
    client = client_for("editor")
    for values in ({"activity": things["query"].pk}, {"tool": "script"}, {"tool": "script"}):
        add(client, project, operation=operation.pk, **values)
    middle = Step.objects.get(operation=operation, position=1)
    response = client.post(
        reverse("design:step_remove", args=[project.pk, middle.pk]), HTTP_HX_REQUEST="true"
    )
    html = unescape(response.content.decode())
    assert "Removed step 2, “Script”, from “Sync”." in html
    assert [s.position for s in Step.objects.filter(operation=operation)] == [0, 1]
    assert 'hx-swap-oob="true"' in steps_tag(html, operation)  # only the steps change
    assert undo.undo(project=project, user=personas["editor"])
    assert [(s.pk, s.position) for s in Step.objects.filter(operation=operation)][1] == (
        middle.pk,
        1,
    )


def test_undo_of_an_added_transformation_removes_the_new_mapping(
    client_for, project, personas, things
):
    operation = empty_operation(project)
    client = client_for("editor")
    add(client, project, operation=operation.pk, activity=things["query"].pk)
    add(client, project, operation=operation.pk, tool="transformation")
    assert undo.undo(project=project, user=personas["editor"]) == "Add a transformation to “Sync”"
    assert chain(operation) == [("source", "All contacts")]
    assert not Transformation.objects.exists()


def test_the_dialog_offers_every_place_of_the_chain(client_for, project, things):
    operation = empty_operation(project)
    client = client_for("editor")
    add(client, project, operation=operation.pk, activity=things["query"].pk)
    add(client, project, operation=operation.pk, activity=things["create"].pk)
    url = reverse("design:step_add", args=[project.pk])
    html = unescape(
        client.get(
            url, {"activity": things["update"].pk, "operation": operation.pk}
        ).content.decode()
    )
    assert "Add “Change contact” to an operation" in html
    assert "At the end (after step 2)" in html
    assert "Before step 1: All contacts" in html and "Before step 2: Add contact" in html
    # From a "+" gap: what to add is chosen in the dialog, the place is preset.
    html = unescape(client.get(url, {"operation": operation.pk, "position": 1}).content.decode())
    assert '<option value="tool:script">Script</option>' in html
    assert (
        f'<option value="activity:{things["update"].pk}">Change contact (target)</option>' in html
    )
    assert '<option value="1" selected>Before step 2: Add contact</option>' in html
    # Choosing another operation reloads only the places.
    other = empty_operation(project, "Other")
    html = client.get(url, {"positions": 1, "operation": other.pk}).content.decode()
    assert "As its first step" in html and "<form" not in html


def test_the_dialog_adds_what_was_chosen_where_it_was_chosen(client_for, project, things):
    operation = empty_operation(project)
    client = client_for("editor")
    add(client, project, operation=operation.pk, activity=things["query"].pk)
    add(client, project, operation=operation.pk, activity=things["create"].pk)
    add(client, project, operation=operation.pk, what="tool:script", position="1")
    assert [k for k, _ in chain(operation)] == ["source", "script", "target"]


def test_the_tools_tab_and_the_steps_are_on_the_page(client_for, project, things):
    operation = empty_operation(project)
    client = client_for("editor")
    add(client, project, operation=operation.pk, activity=things["query"].pk)
    html = unescape(client.get(reverse("design:designer", args=[project.pk])).content.decode())
    assert 'id="tab-tools"' in html
    for name in ("Transformation", "Script", "Condition", "Invoke operation"):
        assert f'aria-label="Add {name} to an operation"' in html
    assert "Step 1, Source: All contacts. Open its configuration" in html
    # A viewer sees the steps but nothing to add or remove.
    html = client_for("viewer").get(reverse("design:designer", args=[project.pk])).content
    html = unescape(html.decode())
    assert "Step 1, Source: All contacts" in html
    assert "Add a step at the end" not in html and "Remove step 1" not in html


def test_step_views_check_the_role(client_for, project, things):
    operation = empty_operation(project)
    add(client_for("editor"), project, operation=operation.pk, activity=things["query"].pk)
    step = Step.objects.get()
    viewer = client_for("viewer")
    assert viewer.get(reverse("design:step", args=[project.pk, step.pk])).status_code == 200
    for name in ("step_save", "step_remove", "step_preview"):
        assert viewer.post(reverse(f"design:{name}", args=[project.pk, step.pk])).status_code == 403
    assert viewer.post(reverse("design:step_add", args=[project.pk])).status_code == 403
    assert Step.objects.count() == 1


def test_the_dialog_places_a_step_in_a_conditions_branch(client_for, project, things):
    operation = empty_operation(project)
    client = client_for("editor")
    add(client, project, operation=operation.pk, activity=things["query"].pk)
    add(client, project, operation=operation.pk, tool="condition")
    condition = Step.objects.get(operation=operation, kind=StepKind.CONDITION)
    url = reverse("design:step_add", args=[project.pk])
    html = unescape(client.get(url, {"operation": operation.pk}).content.decode())
    assert f'<option value="{condition.pk}:true">At the end of the True branch of step 2' in html
    assert f'<option value="{condition.pk}:false">At the end of the False branch of step 2' in html
    add(
        client,
        project,
        operation=operation.pk,
        what=f"activity:{things['create'].pk}",
        position=f"{condition.pk}:false",
    )
    placed = Step.objects.get(operation=operation, kind=StepKind.TARGET)
    assert (placed.parent, placed.branch, placed.position) == (condition, "false", 0)
    # After a routing condition the main chain ends: steps go in its branches.
    html, _ = add(client, project, operation=operation.pk, activity=things["create"].pk)
    assert "put the steps after it in a branch" in html


def test_a_step_moves_within_its_operation_and_to_another(client_for, project, personas, things):
    first = empty_operation(project, "First")
    second = empty_operation(project, "Second")
    client = client_for("editor")
    for values in ({"activity": things["query"].pk}, {"tool": "script"}, {"tool": "condition"}):
        add(client, project, operation=first.pk, **values)
    add(client, project, operation=second.pk, activity=things["query"].pk)
    script = Step.objects.get(operation=first, kind=StepKind.SCRIPT)
    # Within its operation: to the gap after the condition (the end).
    html, _ = add(client, project, operation=first.pk, from_step=script.pk, position=3)
    assert "routes each record to its True or False branch" in html  # refused: after a router
    html, _ = add(client, project, operation=first.pk, from_step=script.pk, position=0)
    assert "A source can only be the first step" in html or "needs records" in html
    # To another operation: the same step's settings go with it.
    Step.objects.filter(pk=script.pk).update(config={"script": "x = 1"})
    html, _ = add(client, project, operation=second.pk, from_step=script.pk)
    assert "Moved script “Script” to step 2 of “Second”." in html
    assert [k for k, _ in chain(first)] == ["source", "condition"]
    moved = Step.objects.get(operation=second, kind=StepKind.SCRIPT)
    assert moved.config == {"script": "x = 1"} and moved.position == 1
    # Undo puts it back where it was, in the first operation.
    assert undo.undo(project=project, user=personas["editor"])
    assert [k for k, _ in chain(first)] == ["source", "script", "condition"]
    assert [k for k, _ in chain(second)] == ["source"]
    # The dialog says what moves.
    script = Step.objects.get(operation=first, kind=StepKind.SCRIPT)
    url = reverse("design:step_add", args=[project.pk])
    dialog = unescape(client.get(url, {"from_step": script.pk}).content.decode())
    assert "Move step 2, “Script”, to" in dialog and ">Move</button>" in dialog
