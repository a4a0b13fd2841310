"""Every project has a workflow; operations land in it; plain slots keep their steps."""

from __future__ import annotations

import pytest

from designer.design.models import Connection, Operation, Step, Workflow
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


def test_slots_written_by_older_code_keep_a_plain_chain_in_step(project):
    conn = Connection.objects.create(project=project, connector_key="files", name="Disk")
    read = conn.activities.create(project=project, activity_type="read_csv", name="Read")
    write = conn.activities.create(project=project, activity_type="write_csv", name="Write")
    op = Operation.objects.create(project=project, name="Op", source=read)
    assert [(s.kind, s.activity_id) for s in op.steps.all()] == [("source", read.id)]
    op.target = write
    op.save()
    assert [(s.position, s.kind, s.activity_id) for s in op.steps.all()] == [
        (0, "source", read.id),
        (1, "target", write.id),
    ]


def test_a_chain_the_slots_cannot_describe_is_left_alone(project):
    conn = Connection.objects.create(project=project, connector_key="files", name="Disk")
    read = conn.activities.create(project=project, activity_type="read_csv", name="Read")
    op = Operation.objects.create(project=project, name="Op", source=read)
    Step.objects.create(operation=op, position=1, kind="script", config={"script": "x"})
    op.name = "Renamed"
    op.save()
    assert [s.kind for s in op.steps.all()] == ["source", "script"]
