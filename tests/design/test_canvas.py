"""The canvas: drops (each a step, posted to step_add as static/js/steps.js does), moves, New
operation, duplicate, undo (through the views). Placement rules: tests/design/test_steps.py."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from designer.design import operations, undo
from designer.design.models import (
    Activity,
    CanvasChange,
    Operation,
    Step,
    StepKind,
    Transformation,
    Workflow,
    default_workflow,
)
from designer.design.step_services import step_add
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(project, fake_connector):
    connection = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    return {
        "connection": connection,
        "query": ActivityFactory(connection=connection, activity_type="query", name="All contacts"),
        "create": ActivityFactory(
            connection=connection, activity_type="create", name="Add contact"
        ),
    }


def add(client, project, **values):
    """What the page posts for any drop on the canvas or a card (static/js/steps.js), and the
    keyboard dialog too: a step added (or moved, ``from_step``)."""
    response = client.post(
        reverse("design:step_add", args=[project.pk]),
        {k: str(v) for k, v in values.items()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    return unescape(response.content.decode()), response


def test_drop_on_empty_canvas_makes_an_operation_with_the_activity_in_its_role(
    client_for, project, endpoint
):
    client = client_for("editor")
    html, _ = add(client, project, activity=endpoint["query"].pk)
    operation = Operation.objects.get(project=project)
    assert f'data-operation="{operation.pk}"' in html  # the board, with its new card
    assert operation.name == "New Operation"
    assert [(s.kind, s.activity_id) for s in operation.steps.all()] == [
        ("source", endpoint["query"].pk)
    ]
    assert operation.updated_by.username == "editor"


def test_a_target_dropped_alone_on_the_canvas_is_refused(client_for, project, endpoint):
    """A target with nothing before it would have no records to write: no operation is made."""
    html, response = add(client_for("editor"), project, activity=endpoint["create"].pk)
    assert "A target needs records to write" in html
    assert "designer-changed" not in response.get("HX-Trigger", "")
    assert not Operation.objects.exists()


def test_dropping_an_activity_type_creates_the_activity(client_for, project, endpoint):
    add(
        client_for("editor"),
        project,
        connection=endpoint["connection"].pk,
        activity_type="query",
    )
    operation = Operation.objects.get(project=project)
    assert operation.source.activity_type == "query"
    assert operation.source.name == "Query"
    assert operation.source.config == {"limit": 100}  # the type's defaults


def test_a_step_moves_between_operations_and_can_be_removed(client_for, project, endpoint):
    client = client_for("editor")
    first = OperationFactory(project=project, name="First", source=endpoint["query"])
    second = OperationFactory(project=project, name="Second")
    moving = Step.objects.get(operation=first, kind="source")
    add(client, project, from_step=moving.pk, operation=second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.source is None and second.source == endpoint["query"]
    step = Step.objects.get(operation=second, kind="source")
    client.post(reverse("design:step_remove", args=[project.pk, step.pk]), HTTP_HX_REQUEST="true")
    second.refresh_from_db()
    assert second.source is None
    assert Activity.objects.filter(pk=endpoint["query"].pk).exists()  # removed, not deleted


def test_a_drop_on_a_card_changed_meanwhile_is_refused(client_for, personas, project, endpoint):
    operation = OperationFactory(project=project, name="Sync")
    seen = operation.version
    add(
        client_for("admin"),
        project,
        activity=endpoint["query"].pk,
        operation=operation.pk,
        version=seen,
    )
    html, _ = add(
        client_for("editor"),
        project,
        activity=endpoint["create"].pk,
        operation=operation.pk,
        version=seen,
    )
    assert "Changed by admin at" in html
    operation.refresh_from_db()
    assert operation.target is None


def test_undo_walks_back_several_changes(client_for, personas, project, endpoint):
    client = client_for("editor")
    undo = reverse("design:canvas_undo", args=[project.pk])
    add(client, project, activity=endpoint["query"].pk)  # 1: new operation with the source
    operation = Operation.objects.get()
    add(client, project, tool="transformation", operation=operation.pk)  # 2: a mapping
    add(client, project, activity=endpoint["create"].pk, operation=operation.pk)  # 3: target
    client.post(
        reverse(
            "design:component_action", args=[project.pk, "operation", operation.pk, "duplicate"]
        ),
        HTTP_HX_REQUEST="true",
    )  # 4: copy
    assert Operation.objects.count() == 2 and Transformation.objects.count() == 2

    # Another user's undo doesn't touch the editor's history.
    assert "Nothing to undo" in unescape(
        client_for("admin").post(undo, HTTP_HX_REQUEST="true").content.decode()
    )
    client.post(undo, HTTP_HX_REQUEST="true")
    assert Operation.objects.count() == 1 and Transformation.objects.count() == 1
    client.post(undo, HTTP_HX_REQUEST="true")
    operation.refresh_from_db()
    assert operation.target is None and operation.transformation is not None
    client.post(undo, HTTP_HX_REQUEST="true")
    operation.refresh_from_db()
    assert operation.transformation is None and Transformation.objects.count() == 0
    client.post(undo, HTTP_HX_REQUEST="true")
    assert Operation.objects.count() == 0
    assert "Nothing to undo" in unescape(client.post(undo, HTTP_HX_REQUEST="true").content.decode())


def test_undo_restores_a_deleted_operation_and_a_type_drop_removes_its_new_activity(
    client_for, personas, project, endpoint
):
    client = client_for("editor")
    operation = OperationFactory(project=project, name="Keep me", source=endpoint["query"])
    client.post(
        reverse("design:component_action", args=[project.pk, "operation", operation.pk, "delete"]),
        HTTP_HX_REQUEST="true",
    )
    assert not Operation.objects.exists()
    client.post(reverse("design:canvas_undo", args=[project.pk]), HTTP_HX_REQUEST="true")
    restored = Operation.objects.get()
    assert restored.name == "Keep me" and restored.source == endpoint["query"]

    add(client, project, connection=endpoint["connection"].pk, activity_type="query")
    assert Activity.objects.filter(activity_type="query").count() == 2
    client.post(reverse("design:canvas_undo", args=[project.pk]), HTTP_HX_REQUEST="true")
    assert Activity.objects.filter(activity_type="query").count() == 1


def test_history_is_capped(personas, project, endpoint):
    user = personas["editor"]
    for _ in range(undo.UNDO_DEPTH + 5):
        with undo.recorded(project=project, user=user, label="Create") as change:
            change.created(operations.operation_create(project=project, user=user))
    assert CanvasChange.objects.filter(project=project, user=user).count() == undo.UNDO_DEPTH


def test_keyboard_dialog_offers_operations_and_posts_a_placement(client_for, project, endpoint):
    OperationFactory(project=project, name="Sync", source=endpoint["query"])
    client = client_for("editor")
    html = unescape(
        client.get(
            reverse("design:step_add", args=[project.pk]),
            {"activity": endpoint["create"].pk},
        ).content.decode()
    )
    assert "Add “Add contact” to an operation" in html
    assert "A new operation" in html and ">Sync</option>" in html
    assert f'name="activity" value="{endpoint["create"].pk}"' in html


def test_undo_of_a_move_puts_the_step_back_in_both_operations(
    client_for, personas, project, endpoint
):
    client = client_for("editor")
    first = OperationFactory(project=project, name="First", source=endpoint["query"])
    moving = Step.objects.get(operation=first, kind="source")
    add(client, project, from_step=moving.pk)  # to a new operation
    moved_to = Operation.objects.exclude(pk=first.pk).get()
    assert moved_to.source == endpoint["query"]
    html = unescape(
        client.get(reverse("design:pane", args=[project.pk, "canvas"])).content.decode()
    )
    assert "Undo: Move a step from “First” to “New Operation”" in html
    client.post(reverse("design:canvas_undo", args=[project.pk]), HTTP_HX_REQUEST="true")
    first.refresh_from_db()
    assert first.source == endpoint["query"]
    assert not Operation.objects.filter(pk=moved_to.pk).exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("editor", 200), ("operator", 403), ("viewer", 403)]
)
def test_only_designers_change_the_canvas(client_for, project, endpoint, persona, status):
    response = client_for(persona).post(
        reverse("design:step_add", args=[project.pk]),
        {"activity": endpoint["query"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == status
    assert Operation.objects.filter(project=project).exists() is (status == 200)


def test_outsiders_cannot_place_another_projects_activity(client_for, project, fake_connector):
    from tests.factories import ProjectFactory

    elsewhere = ConnectionFactory(project=ProjectFactory(), connector_key="fake_crm")
    foreign = ActivityFactory(connection=elsewhere, activity_type="query")
    response = client_for("editor").post(
        reverse("design:step_add", args=[project.pk]),
        {"activity": foreign.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404
    assert not Operation.objects.exists()


def test_a_new_operation_with_no_workflow_named_goes_below_the_default_workflows_cards(
    client_for, project
):
    """The canvas's "New operation" with no workflow: the default (first) workflow, one row
    below its lowest card (not below the lowest card of every workflow)."""
    first = default_workflow(project)
    other = Workflow.objects.create(project=project, name="Other", order=1)
    OperationFactory(project=project, workflow=other, name="Far down", position_y=3000)
    OperationFactory(project=project, workflow=first, name="Up here", position_y=100)
    response = client_for("editor").post(
        reverse("design:operation_new", args=[project.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    new = Operation.objects.get(name="New Operation")
    assert new.workflow == first
    assert new.position_y == 100 + operations.ROW_HEIGHT


def test_a_new_operation_goes_into_the_workflow_shown(client_for, personas, project):
    default_workflow(project)
    shown = Workflow.objects.create(project=project, name="Shown", order=1)
    client = client_for("editor")
    client.post(
        reverse("design:operation_new", args=[project.pk]),
        {"workflow": shown.pk},
        HTTP_HX_REQUEST="true",
    )
    new = Operation.objects.get(name="New Operation")
    assert new.workflow == shown and new.position_y == 40
    assert undo.labels(project, personas["editor"])[0] == "Create “New Operation”"
    client.post(reverse("design:canvas_undo", args=[project.pk]), HTTP_HX_REQUEST="true")
    assert not Operation.objects.exists()


def test_duplicate_from_the_components_pane_copies_every_step(
    client_for, personas, project, endpoint
):
    """The Components pane's Duplicate copies the operation's steps (a script, a second
    target), as the board's Duplicate does, not only its source and target."""
    user = personas["editor"]
    operation = OperationFactory(project=project, name="Sync")
    step_add(project=project, user=user, operation=operation, activity=endpoint["query"])
    step_add(project=project, user=user, operation=operation, tool="script")
    step_add(project=project, user=user, operation=operation, activity=endpoint["create"])
    client_for("editor").post(
        reverse(
            "design:component_action", args=[project.pk, "operation", operation.pk, "duplicate"]
        ),
        HTTP_HX_REQUEST="true",
    )
    copy = Operation.objects.exclude(pk=operation.pk).get()
    kinds = list(
        Step.objects.filter(operation=copy).order_by("position").values_list("kind", flat=True)
    )
    assert kinds == [StepKind.SOURCE, StepKind.SCRIPT, StepKind.TARGET]
    assert copy.workflow_id == operation.workflow_id
