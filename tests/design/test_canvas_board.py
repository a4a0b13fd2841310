"""The board (issue 11): workflows as tabs, free layout, chain arrows, the selection's Delete /
Duplicate / Paste, Undo / Redo over all of it, the live run status, one request per edit."""

from __future__ import annotations

import json
from html import unescape

import pytest
from django.urls import reverse

from designer.crypto import encrypt_json
from designer.design import undo
from designer.design.models import (
    Activity,
    CanvasChange,
    Connection,
    Operation,
    Step,
    Transformation,
    Workflow,
)
from designer.runs.models import OperationRun, RunStatus
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    MembershipFactory,
    OperationFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(project, fake_connector):
    connection = ConnectionFactory(
        project=project,
        connector_key="fake_crm",
        name="CRM",
        config={"base_url": "https://crm.example.com"},
        secrets_encrypted=encrypt_json({"api_key": "sk-very-secret"}),
    )
    return {
        "connection": connection,
        "query": ActivityFactory(connection=connection, activity_type="query", name="All contacts"),
        "create": ActivityFactory(
            connection=connection, activity_type="create", name="Add contact"
        ),
    }


@pytest.fixture
def workflow(project):
    return Workflow.objects.get_or_create(project=project, name="Workflow 1")[0]


def chained_operation(project, endpoint, name="Sync", **fields):
    """An operation with three steps: source, a mapped transformation, target."""
    mapping = Transformation.objects.create(
        project=project, name=f"{name} map", mapping=[{"target": "email", "kind": "path"}]
    )
    op = OperationFactory(
        project=project,
        name=name,
        source=endpoint["query"],
        transformation=mapping,
        target=endpoint["create"],
        **fields,
    )
    assert [s.kind for s in op.steps.all()] == ["source", "transformation", "target"]
    return op


def post(client, name, project, data=None, *args):
    response = client.post(
        reverse(f"design:{name}", args=[project.pk, *args]), data or {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200, response.content[:500]
    return unescape(response.content.decode())


def state(op: Operation) -> dict:
    """What an operation is, for comparing before and after an undo."""
    op = Operation.objects.get(pk=op.pk)
    steps = [
        (s.pk, s.kind, s.position, s.activity_id, s.transformation_id, s.config)
        for s in op.steps.order_by("position")
    ]
    return {
        "name": op.name,
        "workflow": op.workflow_id,
        "xy": (op.position_x, op.position_y),
        "links": (op.on_success_id, op.on_fail_id, op.on_complete_id),
        "steps": steps,
    }


# -------------------------------------------------------------------------------- the page


def test_the_page_shows_the_workflow_tabs_and_only_the_chosen_workflows_cards(
    client_for, project, workflow
):
    other = Workflow.objects.create(project=project, name="Nightly", order=1)
    OperationFactory(project=project, workflow=workflow, name="Import", position_x=120)
    OperationFactory(project=project, workflow=other, name="Cleanup")
    url = reverse("design:designer", args=[project.pk])

    html = unescape(client_for("editor").get(url).content.decode())
    assert 'role="tab"' in html and ">Workflow 1</a>" in html and ">Nightly</a>" in html
    assert 'aria-label="Operation Import"' in html and 'data-x="120"' in html
    assert 'aria-label="Operation Cleanup"' not in html

    html = unescape(client_for("editor").get(url, {"workflow": other.pk}).content.decode())
    assert 'aria-label="Operation Cleanup"' in html and "Operation Import" not in html


# -------------------------------------------------------------------------------- free layout


def test_moving_saves_positions_and_a_stale_move_of_the_same_operation_is_refused(
    client_for, project, workflow
):
    a = OperationFactory(project=project, workflow=workflow, name="A")
    b = OperationFactory(project=project, workflow=workflow, name="B")
    editor, admin = client_for("editor"), client_for("admin")
    moves = [{"id": a.pk, "version": a.version, "x": 300, "y": 140}]

    html = post(editor, "board_move", project, {"moves": json.dumps(moves)})
    a.refresh_from_db()
    assert (a.position_x, a.position_y) == (300, 140) and a.version == 2
    # The answer is the board, out of band: the page makes no other request.
    assert 'id="canvas-content"' in html and 'hx-swap-oob="true"' in html and 'data-x="300"' in html

    # Someone else moves B from the same page load: not affected by the editor's move of A.
    post(admin, "board_move", project, {"moves": json.dumps([{**moves[0], "id": b.pk, "x": 9}])})
    b.refresh_from_db()
    assert b.position_x == 9
    a.refresh_from_db()
    assert (a.position_x, a.position_y) == (300, 140)

    # ... but a move of A from a page loaded before the editor's move is refused.
    html = post(admin, "board_move", project, {"moves": json.dumps([{**moves[0], "x": 5}])})
    assert "Not moved" in html and "editor" in html
    a.refresh_from_db()
    assert a.position_x == 300


def test_unreadable_moves_are_refused_with_a_message(client_for, project, workflow):
    html = post(client_for("editor"), "board_move", project, {"moves": "[{]"})
    assert "Not moved: the positions were not readable." in html


def test_tidy_up_lays_chained_operations_out_left_to_right(client_for, project, workflow):
    c = OperationFactory(project=project, workflow=workflow, name="C", position_y=500)
    b = OperationFactory(project=project, workflow=workflow, name="B", on_success=c)
    a = OperationFactory(project=project, workflow=workflow, name="A", on_fail=b)
    loose = OperationFactory(project=project, workflow=workflow, name="Loose", position_y=900)
    post(client_for("editor"), "board_tidy", project, {"workflow": workflow.pk})
    x = {op.name: op.position_x for op in Operation.objects.all()}
    assert x["A"] < x["B"] < x["C"] and x["Loose"] == x["A"]
    assert len({(o.position_x, o.position_y) for o in Operation.objects.all()}) == 4
    assert loose and a  # (used)


# -------------------------------------------------------------------------------- chain arrows


def test_drawing_and_removing_a_chain_arrow(client_for, project, workflow):
    a = OperationFactory(project=project, workflow=workflow, name="A")
    b = OperationFactory(project=project, workflow=workflow, name="B")
    editor = client_for("editor")
    data = {"operation": a.pk, "kind": "complete", "to": b.pk, "version": a.version}

    html = post(editor, "board_chain", project, data)
    assert "On Complete: “A” now starts “B”." in html
    assert f'data-from="{a.pk}" data-to="{b.pk}" data-kind="complete"' in html
    a.refresh_from_db()
    assert a.on_complete_id == b.pk

    html = post(editor, "board_chain", project, {**data, "to": "", "version": a.version})
    a.refresh_from_db()
    assert a.on_complete_id is None and 'data-kind="complete"' not in html


def test_a_loop_is_refused_with_the_operations_it_would_pass(client_for, project, workflow):
    c = OperationFactory(project=project, workflow=workflow, name="C")
    b = OperationFactory(project=project, workflow=workflow, name="B", on_success=c)
    a = OperationFactory(project=project, workflow=workflow, name="A", on_fail=b)
    editor = client_for("editor")
    html = post(editor, "board_chain", project, {"operation": c.pk, "kind": "success", "to": a.pk})
    assert "loop" in html and "“C” → “A” → “B” → “C”" in html
    c.refresh_from_db()
    assert c.on_success_id is None
    html = post(editor, "board_chain", project, {"operation": a.pk, "kind": "success", "to": a.pk})
    assert "can't start itself" in html


def test_the_chains_dialog_is_the_keyboard_path_to_arrows_and_workflows(
    client_for, project, workflow
):
    other = Workflow.objects.create(project=project, name="Later", order=1)
    a = OperationFactory(project=project, workflow=workflow, name="A")
    b = OperationFactory(project=project, workflow=workflow, name="B")
    editor = client_for("editor")
    url = reverse("design:operation_chains", args=[project.pk, a.pk])
    html = unescape(editor.get(url).content.decode())
    assert '<label for="chain-success">On Success</label>' in html and "B (Workflow 1)" in html

    response = editor.post(
        url,
        {"success": b.pk, "fail": "", "complete": b.pk, "workflow": other.pk, "version": a.version},
        HTTP_HX_REQUEST="true",
    )
    assert "close-dialog" in response.headers["HX-Trigger-After-Settle"]
    a.refresh_from_db()
    assert (a.on_success_id, a.on_complete_id, a.workflow_id) == (b.pk, b.pk, other.pk)
    assert "Undone: Change the chains of “A”." in post(editor, "canvas_undo", project)
    a.refresh_from_db()
    assert (a.on_success_id, a.on_complete_id, a.workflow_id) == (None, None, workflow.pk)


# -------------------------------------------------------------------------------- selection


def test_delete_of_a_selection_and_undo_restores_exactly_what_was_removed(
    client_for, project, workflow, endpoint
):
    sync = chained_operation(project, endpoint, "Sync", workflow=workflow, position_x=77)
    report = OperationFactory(project=project, workflow=workflow, name="Report")
    starter = OperationFactory(project=project, workflow=workflow, name="Start", on_success=sync)
    sync.on_fail = report
    sync.save()
    before = {op.pk: state(op) for op in (sync, report, starter)}
    mapping_id = sync.transformation_id
    editor = client_for("editor")

    html = post(editor, "board_selection", project, {"ops": f"{sync.pk},{report.pk}"}, "delete")
    assert "Deleted 2 operations." in html
    assert not Operation.objects.filter(pk__in=[sync.pk, report.pk]).exists()
    assert Operation.objects.get(pk=starter.pk).on_success_id is None

    html = post(editor, "canvas_undo", project)
    assert "Undone: Delete 2 operations." in html
    assert {op.pk: state(op) for op in (sync, report, starter)} == before
    assert Transformation.objects.get(pk=mapping_id).mapping == [
        {"target": "email", "kind": "path"}
    ]
    # The redo list: Redo deletes them again, Undo brings them back again.
    assert 'title="Redo: Delete 2 operations (Ctrl+Shift+Z)"' in html
    post(editor, "canvas_redo", project)
    assert not Operation.objects.filter(pk__in=[sync.pk, report.pk]).exists()
    post(editor, "canvas_undo", project)
    assert {op.pk: state(op) for op in (sync, report, starter)} == before


def test_undoing_add_target_leaves_no_orphan_transformation(client_for, project, endpoint):
    editor = client_for("editor")
    post(editor, "step_add", project, {"activity": endpoint["query"].pk})
    op = Operation.objects.get()
    post(editor, "step_add", project, {"tool": "transformation", "operation": op.pk})
    post(editor, "step_add", project, {"activity": endpoint["create"].pk, "operation": op.pk})
    assert Transformation.objects.count() == 1  # made for the mapping between the two
    post(editor, "canvas_undo", project)
    post(editor, "canvas_undo", project)
    assert Transformation.objects.count() == 0
    assert [s.kind for s in Step.objects.filter(operation=op)] == ["source"]


def test_a_new_change_ends_the_redo_list(client_for, personas, project, workflow):
    editor = client_for("editor")
    post(editor, "operation_new", project, {"workflow": workflow.pk})
    post(editor, "canvas_undo", project)
    assert CanvasChange.objects.filter(inverse__undone=True).count() == 1
    post(editor, "operation_new", project, {"workflow": workflow.pk})
    assert CanvasChange.objects.filter(inverse__undone=True).count() == 0
    assert "Nothing to redo." in post(editor, "canvas_redo", project)
    assert undo.labels(project, personas["editor"]) == ("Create “New Operation”", "")


def test_undo_does_not_overwrite_someone_elses_later_change(client_for, project, workflow):
    op = OperationFactory(project=project, workflow=workflow, name="A")
    editor, admin = client_for("editor"), client_for("admin")
    post(editor, "board_move", project, {"moves": json.dumps([{"id": op.pk, "x": 10, "y": 10}])})
    post(admin, "board_move", project, {"moves": json.dumps([{"id": op.pk, "x": 99, "y": 99}])})
    html = post(editor, "canvas_undo", project)
    assert "changed by admin since" in html
    op.refresh_from_db()
    assert (op.position_x, op.position_y) == (99, 99)


def test_duplicate_copies_the_selection_with_steps_and_the_arrows_between_them(
    client_for, project, workflow, endpoint
):
    b = chained_operation(project, endpoint, "B", workflow=workflow)
    a = OperationFactory(project=project, workflow=workflow, name="A", on_success=b)
    response = client_for("editor").post(
        reverse("design:board_selection", args=[project.pk, "duplicate"]),
        {"ops": f"{a.pk},{b.pk}"},
        HTTP_HX_REQUEST="true",
    )
    copies = Operation.objects.exclude(pk__in=[a.pk, b.pk])
    assert copies.count() == 2
    copy_a = copies.get(name__startswith="A")
    copy_b = copies.get(name__startswith="B")
    assert copy_a.on_success_id == copy_b.pk
    assert [s.kind for s in copy_b.steps.all()] == ["source", "transformation", "target"]
    assert copy_b.steps.get(kind="transformation").transformation_id != b.transformation_id
    # The copies are selected on the page.
    selected = json.loads(response.headers["HX-Trigger"])["board-select"]["ids"]
    assert sorted(selected) == sorted([copy_a.pk, copy_b.pk])


def test_paste_into_another_project_copies_steps_but_never_credentials(
    client_for, personas, project, workflow, endpoint
):
    sync = chained_operation(project, endpoint, "Sync", workflow=workflow)
    elsewhere = ProjectFactory(name="Other team")
    MembershipFactory(project=elsewhere, user=personas["editor"], role="editor")
    there = Workflow.objects.get_or_create(project=elsewhere, name="Workflow 1")[0]
    editor = client_for("editor")

    html = post(
        editor,
        "board_paste",
        elsewhere,
        {"source_project": project.pk, "ops": str(sync.pk), "workflow": there.pk},
    )
    assert "Pasted “Sync” from “Acme sync”" in html and "no credentials" in html
    pasted = Operation.objects.get(project=elsewhere)
    assert pasted.workflow == there
    assert [s.kind for s in pasted.steps.all()] == ["source", "transformation", "target"]
    copied = Connection.objects.get(project=elsewhere)
    assert copied.config == {"base_url": "https://crm.example.com"}
    assert copied.secrets_encrypted == ""
    assert "sk-very-secret" not in html
    assert Activity.objects.filter(project=elsewhere).count() == 2


def test_paste_from_a_project_the_user_cannot_read_pastes_nothing(
    client_for, project, workflow, fake_connector
):
    secret_project = ProjectFactory(name="Not yours")
    hidden = OperationFactory(project=secret_project, name="Hidden")
    html = post(
        client_for("editor"),
        "board_paste",
        project,
        {"source_project": secret_project.pk, "ops": str(hidden.pk), "workflow": workflow.pk},
    )
    assert "Nothing to paste" in html
    assert not Operation.objects.filter(project=project).exists()


def test_operations_move_between_workflows_and_undo_brings_them_back(client_for, project, workflow):
    later = Workflow.objects.create(project=project, name="Later", order=1)
    a = OperationFactory(project=project, workflow=workflow, name="A")
    editor = client_for("editor")
    html = post(
        editor, "board_selection", project, {"ops": str(a.pk), "to_workflow": later.pk}, "move"
    )
    assert "Moved “A” to “Later”." in html
    assert Operation.objects.get(pk=a.pk).workflow_id == later.pk
    post(editor, "canvas_undo", project)
    assert Operation.objects.get(pk=a.pk).workflow_id == workflow.pk


# -------------------------------------------------------------------------------- workflows


def test_workflows_are_created_renamed_reordered_and_deleted_with_undo(
    client_for, project, workflow
):
    editor = client_for("editor")
    html = post(editor, "workflow_new", project)
    second = Workflow.objects.exclude(pk=workflow.pk).get()
    assert f"Created the workflow “{second.name}”." in html

    html = post(editor, "workflow_rename", project, {"name": "Nightly", "version": 1}, second.pk)
    assert "to “Nightly”" in html
    html = post(editor, "workflow_rename", project, {"name": "Workflow 1"}, second.pk)
    assert "A workflow named “Workflow 1” already exists" in html
    assert "Not renamed" in post(editor, "workflow_rename", project, {"name": "a/b"}, second.pk)

    post(editor, "workflow_move", project, None, second.pk, "left")
    assert list(Workflow.objects.values_list("name", flat=True)) == ["Nightly", "Workflow 1"]

    OperationFactory(project=project, workflow=second, name="Nightly import")
    html = post(editor, "workflow_delete", project, None, second.pk)
    assert "Deleted the workflow “Nightly”." in html
    assert not Operation.objects.filter(name="Nightly import").exists()
    post(editor, "canvas_undo", project)
    restored = Operation.objects.get(name="Nightly import")
    assert restored.workflow.name == "Nightly"

    # The last workflow stays.
    Workflow.objects.exclude(pk=workflow.pk).delete()
    assert "at least one workflow" in post(editor, "workflow_delete", project, None, workflow.pk)


# -------------------------------------------------------------------------------- live status


def test_the_status_poll_answers_only_when_a_last_run_changed(client_for, project, workflow):
    op = OperationFactory(project=project, workflow=workflow, name="A")
    viewer = client_for("viewer")
    url = reverse("design:board_status", args=[project.pk])
    page = unescape(viewer.get(reverse("design:designer", args=[project.pk])).content.decode())
    seen = page.split("&seen=")[1].split('"')[0]

    assert viewer.get(url, {"workflow": workflow.pk, "seen": seen}).status_code == 204
    run = OperationRun.objects.create(project=project, operation=op, status=RunStatus.RUNNING)
    html = unescape(viewer.get(url, {"workflow": workflow.pk, "seen": seen}).content.decode())
    assert f'id="last-run-{op.pk}"' in html and 'hx-swap-oob="true"' in html
    assert run.get_status_display() in html
    new_seen = html.split("&seen=")[1].split('"')[0]
    assert new_seen != seen
    assert viewer.get(url, {"workflow": workflow.pk, "seen": new_seen}).status_code == 204


# -------------------------------------------------------------------------------- access


@pytest.mark.parametrize("persona,status", [("viewer", 403), ("outsider", 404)])
def test_only_designers_edit_the_board(client_for, project, workflow, persona, status):
    op = OperationFactory(project=project, workflow=workflow, name="A")
    client = client_for(persona)
    moves = json.dumps([{"id": op.pk, "x": 1, "y": 1}])
    for name, args, data in [
        ("board_move", [], {"moves": moves}),
        ("board_chain", [], {"operation": op.pk, "kind": "success", "to": ""}),
        ("board_selection", ["delete"], {"ops": op.pk}),
        ("board_paste", [], {"source_project": project.pk, "ops": op.pk}),
        ("canvas_redo", [], {}),
        ("workflow_new", [], {}),
    ]:
        url = reverse(f"design:{name}", args=[project.pk, *args])
        assert client.post(url, data).status_code == status, name
    assert Operation.objects.filter(pk=op.pk, position_x=0).exists()


# -------------------------------------------------------------------------------- card cache


def test_cached_cards_follow_every_change_they_show(client_for, project, workflow, endpoint):
    """Cards come from the cache (a 200-operation board renders in a fraction of the time),
    yet a new step, a renamed activity, a new run or another role shows at once."""
    from designer.design import operations, services

    op = chained_operation(project, endpoint, "Sync", workflow=workflow)
    editor, viewer = client_for("editor"), client_for("viewer")
    url = reverse("design:pane", args=[project.pk, "canvas"])

    def board(client):
        return unescape(client.get(url, {"workflow": workflow.pk}).content.decode())

    assert "All contacts" in board(editor)
    services.activity_rename(
        activity=endpoint["query"], expected_version=None, name="Every contact", user=None
    )
    assert "Every contact" in board(editor) and "All contacts" not in board(editor)

    operations.step_insert(operation=op, user=None, kind="script", config={"script": "a = 1"})
    assert "a = 1" in board(editor)

    OperationRun.objects.create(project=project, operation=op, status=RunStatus.ERROR)
    assert "status-error" in board(editor)

    # The same card for a viewer: no Run, no ports, no menus (not the editor's cached copy).
    html = board(viewer)
    assert 'aria-label="Operation Sync"' in html and "port-success" not in html
    assert "port-success" in board(editor)


def test_the_palette_marks_activities_any_step_uses_in_any_workflow(
    client_for, project, workflow, endpoint
):
    """Not only an operation's first source and target: a second target, in another tab."""
    from designer.design import operations

    later = Workflow.objects.create(project=project, name="Later", order=1)
    op = OperationFactory(project=project, workflow=later, name="Archive")
    operations.step_insert(operation=op, user=None, kind="source", activity=endpoint["query"])
    html = unescape(
        client_for("editor")
        .get(reverse("design:pane", args=[project.pk, "palette"]))
        .content.decode()
    )
    in_use = html.split('aria-label="Open activity All contacts"')[1].split("</li>")[0]
    assert 'title="Used in an operation">in use<' in in_use
    unused = html.split('aria-label="Open activity Add contact"')[1].split("</li>")[0]
    assert "in use" not in unused


def test_workflow_create_rename_reorder_and_empty_delete_are_undoable(
    client_for, personas, project, workflow
):
    editor = client_for("editor")
    post(editor, "workflow_new", project)
    second = Workflow.objects.exclude(pk=workflow.pk).get()
    assert undo.labels(project, personas["editor"])[0] == f"Create the workflow “{second.name}”"
    post(editor, "canvas_undo", project)
    assert list(Workflow.objects.values_list("pk", flat=True)) == [workflow.pk]
    post(editor, "canvas_redo", project)
    assert Workflow.objects.get(pk=second.pk).name == second.name

    post(editor, "workflow_rename", project, {"name": "Nightly"}, second.pk)
    assert undo.labels(project, personas["editor"])[0] == (
        f"Rename the workflow “{second.name}” to “Nightly”"
    )
    post(editor, "canvas_undo", project)
    assert Workflow.objects.get(pk=second.pk).name == second.name
    post(editor, "canvas_redo", project)
    assert Workflow.objects.get(pk=second.pk).name == "Nightly"

    post(editor, "workflow_move", project, None, second.pk, "left")
    assert list(Workflow.objects.values_list("name", flat=True)) == ["Nightly", "Workflow 1"]
    post(editor, "canvas_undo", project)
    assert list(Workflow.objects.values_list("name", flat=True)) == ["Workflow 1", "Nightly"]

    post(editor, "workflow_delete", project, None, second.pk)  # no operations in it
    assert not Workflow.objects.filter(pk=second.pk).exists()
    post(editor, "canvas_undo", project)
    assert Workflow.objects.get(pk=second.pk).name == "Nightly"


def test_undoing_a_workflows_creation_keeps_it_once_it_has_operations(
    client_for, project, workflow
):
    editor = client_for("editor")
    post(editor, "workflow_new", project)
    second = Workflow.objects.exclude(pk=workflow.pk).get()
    OperationFactory(project=project, workflow=second, name="Made there since")
    post(editor, "canvas_undo", project)
    assert Operation.objects.filter(name="Made there since", workflow=second).exists()
