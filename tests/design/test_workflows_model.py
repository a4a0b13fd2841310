"""Every project has a workflow; operations land in it; their source, transformation and
target are read from their steps."""

from __future__ import annotations

import pytest

from designer.design.models import Connection, Operation, Step, Transformation, Workflow
from designer.design.operations import plain_chain
from designer.projects.models import Project

pytestmark = pytest.mark.django_db


def test_a_new_project_starts_with_workflow_1():
    project = Project.objects.create(name="Fresh")
    assert [w.name for w in project.workflows.all()] == ["Workflow 1"]


def test_an_operation_without_a_workflow_goes_into_the_projects_first(project):
    second = Workflow.objects.create(project=project, name="Later", order=5)
    op = Operation.objects.create(project=project, name="Op")
    assert op.workflow.name == "Workflow 1"
    assert op.workflow != second


def test_source_transformation_and_target_are_read_from_the_steps(project):
    """No slot columns: the steps are the one truth, and these name the main chain's first
    of each (a source only as its first step)."""
    conn = Connection.objects.create(project=project, connector_key="files", name="Disk")
    read = conn.activities.create(project=project, activity_type="read_csv", name="Read")
    write = conn.activities.create(project=project, activity_type="write_csv", name="Write")
    archive = conn.activities.create(project=project, activity_type="write_csv", name="Archive")
    op = Operation.objects.create(project=project, name="Op")
    assert (op.source, op.transformation, op.target) == (None, None, None)
    mapping = Transformation.objects.create(project=project, name="Map")
    plain_chain(op, source=read, transformation=mapping, target=write)
    Step.objects.create(operation=op, position=3, kind="target", activity=archive)
    assert (op.source, op.transformation, op.target) == (read, mapping, write)
    assert (op.source_id, op.transformation_id, op.target_id) == (read.pk, mapping.pk, write.pk)
    Step.objects.filter(operation=op, kind="source").delete()
    assert op.source is None and op.source_id is None
    with pytest.raises(AttributeError):
        op.source = read  # nothing stores it: a step is added instead


def test_a_read_target_is_the_same_object_until_its_step_changes(project):
    """Code that changes ``operation.target`` and saves it changes what it read (a fresh
    object per read lost such changes); a step pointed elsewhere is read afresh."""
    conn = Connection.objects.create(project=project, connector_key="files", name="Disk")
    read = conn.activities.create(project=project, activity_type="read_csv", name="Read")
    write = conn.activities.create(project=project, activity_type="write_csv", name="Write")
    other = conn.activities.create(project=project, activity_type="write_csv", name="Other")
    op = Operation.objects.create(project=project, name="Op")
    plain_chain(op, source=read, target=write)
    op.target.config = {"file_name": "changed.csv"}
    op.target.save()
    assert Connection.objects.get(pk=conn.pk).activities.get(pk=write.pk).config == {
        "file_name": "changed.csv"
    }
    Step.objects.filter(operation=op, kind="target").update(activity=other)
    assert op.target == other
    Step.objects.filter(operation=op, kind="target").delete()
    assert op.target is None
