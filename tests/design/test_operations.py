"""Operation services: steps and their placement rules, copies, workflows."""

from __future__ import annotations

import pytest

from designer.design import operations
from designer.design.models import Connection, Operation, Step, Transformation, Workflow
from designer.design.operations import PlacementRefused
from designer.design.services import NameTaken
from designer.design.versioning import StaleVersion
from tests.factories import ActivityFactory, ConnectionFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(project, fake_connector):
    connection = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    return {
        "connection": connection,
        "query": ActivityFactory(connection=connection, activity_type="query", name="All"),
        "create": ActivityFactory(connection=connection, activity_type="create", name="Add"),
        "update": ActivityFactory(connection=connection, activity_type="update", name="Change"),
    }


@pytest.fixture
def op(project, personas):
    return operations.operation_create(project=project, user=personas["editor"])


def kinds(operation):
    return [(s.position, s.kind) for s in Step.objects.filter(operation=operation, parent=None)]


def test_a_five_step_chain_with_a_response_path_builds_and_keeps_the_old_slots(op, crm, personas):
    user = personas["editor"]
    operations.step_insert(operation=op, user=user, kind="source", activity=crm["query"])
    operations.step_insert(operation=op, user=user, kind="target", activity=crm["create"])
    mapping = operations.step_insert(operation=op, user=user, kind="transformation", position=1)
    operations.step_insert(operation=op, user=user, kind="transformation")  # response mapping
    operations.step_insert(operation=op, user=user, kind="target", activity=crm["update"])
    assert kinds(op) == [
        (0, "source"),
        (1, "transformation"),
        (2, "target"),
        (3, "transformation"),
        (4, "target"),
    ]
    assert mapping.transformation.name == op.name  # a new empty mapping named after it
    op.refresh_from_db()
    assert (op.source_id, op.transformation_id, op.target_id) == (
        crm["query"].id,
        mapping.transformation_id,
        crm["create"].id,
    )
    assert op.version == 6
    target = Step.objects.get(operation=op, position=2)
    assert target.config == {"pass_on": "response"}


@pytest.mark.parametrize(
    "chain, reason",
    [
        (["target"], "A target needs records to write"),
        (["transformation"], "needs records to work on"),
        (["condition"], "A condition needs records to test"),
        (["source", "source"], "A source can only be the first step"),
        (["invoke", "source"], "A source can only be the first step"),
    ],
)
def test_invalid_placements_are_refused_with_the_reason(op, crm, personas, chain, reason):
    user = personas["editor"]
    activity = {"source": crm["query"], "target": crm["create"]}
    with pytest.raises(PlacementRefused) as refused:
        for kind in chain:
            operations.step_insert(operation=op, user=user, kind=kind, activity=activity.get(kind))
    assert reason in refused.value.message
    # Nothing of the refused step was saved (not even a new transformation).
    assert Step.objects.filter(operation=op).count() == len(chain) - 1
    assert not Transformation.objects.filter(project=op.project).exists()


def test_a_wrong_role_and_an_invoke_of_itself_are_refused(op, crm, personas):
    user = personas["editor"]
    with pytest.raises(PlacementRefused, match="is a target activity"):
        operations.step_insert(operation=op, user=user, kind="source", activity=crm["create"])
    with pytest.raises(PlacementRefused, match="can't invoke itself"):
        operations.step_insert(operation=op, user=user, kind="invoke", config={"operation": op.pk})


def test_a_routing_condition_ends_its_chain_and_branches_need_it(op, crm, personas):
    user = personas["editor"]
    operations.step_insert(operation=op, user=user, kind="source", activity=crm["query"])
    condition = operations.step_insert(
        operation=op, user=user, kind="condition", config={"expression": "[x] > 1"}
    )
    with pytest.raises(PlacementRefused, match="put the steps after it in a branch"):
        operations.step_insert(operation=op, user=user, kind="target", activity=crm["create"])
    operations.step_insert(
        operation=op,
        user=user,
        kind="target",
        activity=crm["create"],
        parent=condition,
        branch="true",
    )
    operations.step_insert(
        operation=op,
        user=user,
        kind="target",
        activity=crm["update"],
        parent=condition,
        branch="false",
    )
    # A filter has no branches: switching this one to filter is refused, nothing changed.
    with pytest.raises(PlacementRefused, match="filters records"):
        operations.step_configure(
            step=condition, user=user, config={"expression": "[x] > 1", "mode": "filter"}
        )
    condition.refresh_from_db()
    assert condition.config["mode"] == "route"
    # Removing the condition takes its branches with it.
    operations.step_remove(step=condition, user=user)
    assert kinds(op) == [(0, "source")]
    assert not Step.objects.filter(operation=op, parent__isnull=False).exists()


def test_move_and_remove_renumber_and_refuse_an_invalid_result(op, crm, personas):
    user = personas["editor"]
    operations.step_insert(operation=op, user=user, kind="source", activity=crm["query"])
    script = operations.step_insert(operation=op, user=user, kind="script", config={"script": ""})
    operations.step_insert(operation=op, user=user, kind="target", activity=crm["create"])
    operations.step_move(step=script, user=user, position=2)
    assert kinds(op) == [(0, "source"), (1, "target"), (2, "script")]
    source = Step.objects.get(operation=op, kind="source")
    with pytest.raises(PlacementRefused, match="A target needs records to write"):
        operations.step_move(step=source, user=user, position=1)
    assert kinds(op) == [(0, "source"), (1, "target"), (2, "script")]
    operations.step_remove(step=Step.objects.get(operation=op, kind="target"), user=user)
    assert kinds(op) == [(0, "source"), (1, "script")]


def test_a_stale_copy_of_the_operation_is_refused(op, crm, personas):
    user = personas["editor"]
    operations.step_insert(operation=op, user=user, kind="source", activity=crm["query"])
    with pytest.raises(StaleVersion):
        operations.step_insert(operation=op, user=user, kind="script", expected_version=1)
    assert kinds(op) == [(0, "source")]


def test_copy_into_another_project_copies_steps_and_mapping_never_credentials(op, crm, personas):
    user = personas["editor"]
    crm["connection"].secrets_encrypted = "secret-token-ciphertext"
    crm["connection"].save()
    operations.step_insert(operation=op, user=user, kind="source", activity=crm["query"])
    mapping = operations.step_insert(operation=op, user=user, kind="transformation")
    mapping.transformation.mapping = [{"target": "a", "kind": "path", "value": "b"}]
    mapping.transformation.save()
    operations.step_insert(operation=op, user=user, kind="target", activity=crm["create"])
    other = ProjectFactory()
    copy = operations.operation_copy(operation=op, user=user, workflow=other.workflows.get())
    assert copy.project == other and copy.name == op.name
    steps = list(copy.steps.order_by("position"))
    assert [s.kind for s in steps] == ["source", "transformation", "target"]
    assert steps[1].transformation.mapping == mapping.transformation.mapping
    assert steps[1].transformation.project == other
    (connection,) = Connection.objects.filter(project=other)
    assert connection.secrets_encrypted == ""
    assert {s.activity.connection_id for s in (steps[0], steps[2])} == {connection.id}
    # Within the project: same activities, a copied mapping, a "copy" name.
    again = operations.operation_copy(operation=op, user=user, workflow=op.workflow)
    assert again.name == f"{op.name} copy"
    again_steps = list(again.steps.order_by("position"))
    assert again_steps[0].activity_id == crm["query"].id
    assert again_steps[1].transformation_id != mapping.transformation_id


def test_workflows_create_rename_reorder_move_and_delete(project, personas, op):
    user = personas["editor"]
    first = project.workflows.get()
    second = operations.workflow_create(project=project, user=user)
    assert second.name == "Workflow 2" and second.order == 1
    with pytest.raises(NameTaken):
        operations.workflow_create(project=project, user=user, name="workflow 1")
    with pytest.raises(NameTaken):
        operations.workflow_rename(workflow=second, user=user, name="Workflow 1")
    operations.workflow_rename(workflow=second, user=user, name="Imports")
    operations.workflow_reorder(project=project, user=user, ids=[second.pk, first.pk])
    assert [w.name for w in project.workflows.all()] == ["Imports", "Workflow 1"]
    operations.operation_move_to_workflow(operation=op, workflow=second, user=user)
    assert Operation.objects.get(pk=op.pk).workflow == second
    operations.workflow_delete(workflow=second, user=user)
    assert not Operation.objects.filter(pk=op.pk).exists()
    with pytest.raises(PlacementRefused, match="at least one workflow"):
        operations.workflow_delete(workflow=first, user=user)
    assert Workflow.objects.filter(project=project).count() == 1


def test_components_used_by_any_step_are_not_deleted(op, crm, personas):
    from designer.design import services

    user = personas["editor"]
    operations.step_insert(operation=op, user=user, kind="source", activity=crm["query"])
    operations.step_insert(operation=op, user=user, kind="target", activity=crm["create"])
    response = operations.step_insert(operation=op, user=user, kind="transformation")
    operations.step_insert(operation=op, user=user, kind="target", activity=crm["update"])
    # The second target and the response mapping are in no old slot, only in steps.
    with pytest.raises(services.ComponentInUse, match="used in “New Operation”"):
        services.activity_delete(activity=crm["update"])
    with pytest.raises(services.ComponentInUse, match="it is used in “New Operation”"):
        services.transformation_delete(transformation=response.transformation)
    with pytest.raises(services.ComponentInUse):
        services.connection_delete(connection=crm["connection"])
    assert Step.objects.filter(operation=op).count() == 4


def test_a_script_or_condition_that_does_not_compile_is_refused_naming_the_line(op, crm, personas):
    user = personas["editor"]
    operations.step_insert(operation=op, user=user, kind="source", activity=crm["query"])
    script = operations.step_insert(operation=op, user=user, kind="script")
    condition = operations.step_insert(operation=op, user=user, kind="condition")
    with pytest.raises(PlacementRefused, match=r"The script: line 2: expected"):
        operations.step_configure(step=script, user=user, config={"script": "a = 1\nwhat"})
    with pytest.raises(PlacementRefused, match=r"The condition: syntax error"):
        operations.step_configure(step=condition, user=user, config={"expression": "x >"})
    operations.step_configure(step=script, user=user, config={"script": "a = 1\nskip if a"})
    script.refresh_from_db()
    assert script.config == {"script": "a = 1\nskip if a"}


def test_operations_invoking_each_other_in_a_loop_are_refused(project, personas):
    user = personas["editor"]
    a = operations.operation_create(project=project, user=user, name="A")
    b = operations.operation_create(project=project, user=user, name="B")
    c = operations.operation_create(project=project, user=user, name="C")
    operations.step_insert(operation=a, user=user, kind="invoke", config={"operation": b.pk})
    operations.step_insert(operation=b, user=user, kind="invoke", config={"operation": c.pk})
    with pytest.raises(PlacementRefused, match="would loop: C → A → B → C"):
        operations.step_insert(operation=c, user=user, kind="invoke", config={"operation": a.pk})
    step = Step.objects.get(operation=b)
    with pytest.raises(PlacementRefused, match="can't invoke itself"):
        operations.step_configure(step=step, user=user, config={"operation": b.pk})
