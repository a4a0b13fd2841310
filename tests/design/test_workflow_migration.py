"""Existing projects migrate into one workflow; each operation's slots become its steps."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from designer.design.models import Operation, Workflow

BEFORE = [("design", "0002_canvas_change")]
AFTER = [("design", "0006_operations_laid_out_in_pixels")]


@pytest.mark.django_db(transaction=True)
def test_existing_operations_move_into_workflow_1_with_their_slots_as_steps():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Project = old.get_model("projects", "Project")
    Connection = old.get_model("design", "Connection")
    Activity = old.get_model("design", "Activity")
    Transformation = old.get_model("design", "Transformation")
    OldOperation = old.get_model("design", "Operation")
    project = Project.objects.create(name="Legacy")
    conn = Connection.objects.create(project=project, connector_key="files", name="Disk")
    source = Activity.objects.create(
        project=project, connection=conn, activity_type="read_csv", name="Read"
    )
    target = Activity.objects.create(
        project=project, connection=conn, activity_type="write_csv", name="Write"
    )
    mapping = Transformation.objects.create(project=project, name="Map")
    full = OldOperation.objects.create(
        project=project, name="Full", source=source, transformation=mapping, target=target
    )
    bare = OldOperation.objects.create(project=project, name="Source only", source=source)
    empty = OldOperation.objects.create(project=project, name="Empty")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    try:
        (workflow,) = Workflow.objects.filter(project_id=project.id)
        assert workflow.name == "Workflow 1"
        ops = {op.name: op for op in Operation.objects.filter(project_id=project.id)}
        assert {op.workflow_id for op in ops.values()} == {workflow.id}
        chain = [
            (s.position, s.kind, s.activity_id, s.transformation_id)
            for s in ops["Full"].steps.order_by("position")
        ]
        assert chain == [
            (0, "source", source.id, None),
            (1, "transformation", None, mapping.id),
            (2, "target", target.id, None),
        ]
        assert [s.kind for s in ops["Source only"].steps.all()] == ["source"]
        assert list(ops["Empty"].steps.all()) == []
        assert {full.id, bare.id, empty.id} == {op.id for op in ops.values()}
        # Laid out one under another, in pixels, in their old order.
        assert [
            (ops[n].position_x, ops[n].position_y) for n in ("Full", "Source only", "Empty")
        ] == [
            (40, 40),
            (40, 260),
            (40, 480),
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_slots_without_steps_become_steps_before_the_slots_go():
    """0009 drops the slot columns; an operation that still had slots and no steps keeps its
    chain (one with steps keeps its steps, whatever its slots said)."""
    before = [("design", "0008_global_endpoints_shared_with_all")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Project = old.get_model("projects", "Project")
    Connection = old.get_model("design", "Connection")
    Activity = old.get_model("design", "Activity")
    Transformation = old.get_model("design", "Transformation")
    Workflow_ = old.get_model("design", "Workflow")
    OldOperation = old.get_model("design", "Operation")
    OldStep = old.get_model("design", "Step")
    project = Project.objects.create(name="Legacy")
    workflow = Workflow_.objects.create(project=project, name="Workflow 1")
    conn = Connection.objects.create(project=project, connector_key="files", name="Disk")
    read = Activity.objects.create(
        project=project, connection=conn, activity_type="read_csv", name="Read"
    )
    write = Activity.objects.create(
        project=project, connection=conn, activity_type="write_csv", name="Write"
    )
    mapping = Transformation.objects.create(project=project, name="Map")
    bare = OldOperation.objects.create(
        project=project,
        workflow=workflow,
        name="Slots only",
        source=read,
        target=write,
        transformation=mapping,
    )
    stepped = OldOperation.objects.create(
        project=project, workflow=workflow, name="Stepped", source=read, target=write
    )
    OldStep.objects.create(operation=stepped, position=0, kind="source", activity=read, config={})

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    chain = [
        (s.kind, s.activity_id, s.transformation_id)
        for s in Operation.objects.get(pk=bare.pk).steps.order_by("position")
    ]
    assert chain == [
        ("source", read.id, None),
        ("transformation", None, mapping.id),
        ("target", write.id, None),
    ]
    assert [s.kind for s in Operation.objects.get(pk=stepped.pk).steps.all()] == ["source"]
