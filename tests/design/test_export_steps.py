"""Export format 2 (issue 11): workflows, operation steps and On Complete round-trip; files
of format 1 still import, their operations becoming steps in one workflow."""

from __future__ import annotations

import json

import pytest

from designer.design import operations
from designer.design.models import Operation, Step, Workflow
from designer.transfer import services as transfer
from tests.factories import ActivityFactory, ConnectionFactory, TransformationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawn(project, fake_connector):
    """Two workflows; a chain with a response path, a script, a routing condition with a
    branch and an invoke step; On Complete."""
    crm = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    query = ActivityFactory(connection=crm, activity_type="query", name="All")
    create = ActivityFactory(connection=crm, activity_type="create", name="Add")
    update = ActivityFactory(connection=crm, activity_type="update", name="Change")
    imports = operations.workflow_create(project=project, user=None, name="Imports")
    cleanup = operations.operation_create(project=project, user=None, name="Cleanup")
    sync = operations.operation_create(project=project, user=None, workflow=imports, name="Sync")
    add = lambda kind, **kw: operations.step_insert(operation=sync, user=None, kind=kind, **kw)  # noqa: E731
    add("source", activity=query)
    add("transformation", transformation=TransformationFactory(project=project, name="Map"))
    add("target", activity=create, config={"pass_on": "response"})
    add("script", config={"script": "skip if not ok\n$last = id"})
    add("invoke", config={"operation": cleanup.pk, "wait": True})
    condition = add("condition", config={"expression": "action == 'created'", "mode": "route"})
    add("target", activity=update, parent=condition, branch="true")
    Operation.objects.filter(pk=sync.pk).update(on_complete=cleanup)
    return project


def chains_of(project):
    out = {}
    for op in Operation.objects.filter(project=project):
        out[op.name] = [
            (
                s.kind,
                s.parent.position if s.parent else None,
                s.branch,
                s.position,
                s.activity.name if s.activity else None,
                s.transformation.name if s.transformation else None,
            )
            for s in Step.objects.filter(operation=op).order_by("parent_id", "branch", "position")
        ]
    return out


def test_a_drawn_project_round_trips_in_format_2(drawn, fake_connector):
    document = json.loads(json.dumps(transfer.project_export(project=drawn)))
    assert document["format_version"] == 2
    assert [w["name"] for w in document["workflows"]] == ["Workflow 1", "Imports"]
    sync = next(o for o in document["operations"] if o["name"] == "Sync")
    assert sync["workflow"] == "Imports" and sync["on_complete"] == "Cleanup"
    assert sync["steps"][4] == {"kind": "invoke", "config": {"operation": "Cleanup", "wait": True}}
    assert sync["steps"][5]["branches"]["true"][0]["activity"]["activity"] == "Change"

    copy = transfer.project_import(document=document, actor=UserFactory())
    assert [w.name for w in Workflow.objects.filter(project=copy)] == ["Workflow 1", "Imports"]
    assert chains_of(copy) == chains_of(drawn)
    copied = Operation.objects.get(project=copy, name="Sync")
    invoke = copied.steps.get(kind="invoke")
    assert invoke.config["operation"] == Operation.objects.get(project=copy, name="Cleanup").pk
    assert copied.workflow.name == "Imports" and copied.on_complete.name == "Cleanup"
    assert copied.source.name == "All" and copied.target.name == "Add"  # the old slots follow
    again = json.loads(json.dumps(transfer.project_export(project=copy)))
    for doc in (document, again):
        doc.pop("exported_at")
        doc.pop("project")
    assert again == document


def test_a_format_1_file_still_imports_into_one_workflow(fake_connector):
    document = {
        "format": "integration-designer/project",
        "format_version": 1,
        "project": {"name": "Old one"},
        "connections": [
            {
                "name": "CRM",
                "connector_key": "fake_crm",
                "activities": [
                    {"name": "All", "activity_type": "query"},
                    {"name": "Add", "activity_type": "create"},
                ],
            }
        ],
        "transformations": [{"name": "Map", "mapping": []}],
        "operations": [
            {
                "name": "Sync",
                "source": {"connection": "CRM", "activity": "All"},
                "transformation": "Map",
                "target": {"connection": "CRM", "activity": "Add"},
                "position": {"x": 40, "y": 80},
                "on_success": "Tidy",
            },
            {"name": "Tidy", "source": None, "target": None},
        ],
    }
    project = transfer.project_import(document=document, actor=UserFactory())
    (workflow,) = Workflow.objects.filter(project=project)
    assert workflow.name == "Workflow 1"
    assert set(workflow.operations.values_list("name", flat=True)) == {"Sync", "Tidy"}
    sync = Operation.objects.get(project=project, name="Sync")
    assert [(s.kind, s.position) for s in sync.steps.order_by("position")] == [
        ("source", 0),
        ("transformation", 1),
        ("target", 2),
    ]
    assert sync.on_success.name == "Tidy"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [{"kind": "target", "activity": {"connection": "CRM", "activity": "Add"}}],
            "A target needs records to write",
        ),
        (
            [{"kind": "invoke", "config": {"operation": "Nowhere"}}],
            "no operation “Nowhere” to invoke",
        ),
        ([{"kind": "teleport"}], r"operations\[1\]\.steps\[0\]\.kind: must be one of"),
    ],
)
def test_a_bad_chain_in_a_file_is_refused_naming_the_operation(drawn, steps, message):
    document = json.loads(json.dumps(transfer.project_export(project=drawn)))
    next(o for o in document["operations"] if o["name"] == "Sync")["steps"] = steps
    before = Operation.objects.count()
    with pytest.raises(transfer.ProjectImportError, match=message):
        transfer.project_import(document=document, actor=UserFactory())
    assert Operation.objects.count() == before
