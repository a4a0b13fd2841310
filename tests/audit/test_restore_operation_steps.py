"""Restoring a deleted operation brings its chain back: the steps are in the history's copy
(operations have no source / transformation / target columns any more), and an entry written
while they had them (slot ids, no steps) comes back as the plain chain those ids meant."""

from __future__ import annotations

import pytest

from designer.audit.models import AuditEntry
from designer.audit.services import component_restore
from designer.design.models import Step, Workflow
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)

pytestmark = pytest.mark.django_db


def chain_of(operation) -> list[tuple]:
    return [
        (s.kind, s.parent_id and "child", s.branch, s.activity_id, s.transformation_id, s.config)
        for s in Step.objects.filter(operation=operation).order_by("parent_id", "position", "pk")
    ]


def test_a_deleted_operation_comes_back_with_its_steps_and_branches(project, personas):
    connection = ConnectionFactory(project=project)
    source = ActivityFactory(connection=connection, project=project)
    target = ActivityFactory(connection=connection, project=project)
    mapping = TransformationFactory(project=project)
    operation = OperationFactory(project=project, name="Sync", source=source)
    condition = Step.objects.create(
        operation=operation, position=1, kind="condition", config={"expression": "1"}
    )
    Step.objects.create(
        operation=operation, position=2, kind="transformation", transformation=mapping
    )
    Step.objects.create(
        operation=operation, parent=condition, branch="true", position=0, kind="target",
        activity=target,
    )  # fmt: skip
    before = chain_of(operation)
    step_ids = set(Step.objects.filter(operation=operation).values_list("pk", flat=True))
    operation.delete()  # the delete signal records the copy, steps included
    entry = AuditEntry.objects.get(action="delete", component_kind="operation")
    kinds = sorted(s["kind"] for s in entry.before["steps"])
    assert kinds == ["condition", "source", "target", "transformation"]

    restored = component_restore(entry=entry, actor=personas["admin"])
    assert chain_of(restored) == before
    assert set(restored.steps.values_list("pk", flat=True)) == step_ids  # the same ids
    assert (restored.source, restored.transformation) == (source, mapping)


def test_an_entry_from_before_steps_were_the_truth_restores_its_slots_as_a_chain(project, personas):
    connection = ConnectionFactory(project=project)
    source = ActivityFactory(connection=connection, project=project)
    target = ActivityFactory(connection=connection, project=project)
    gone = TransformationFactory(project=project)
    gone_id = gone.pk
    gone.delete()
    entry = AuditEntry.objects.create(
        project=project,
        project_name=project.name,
        action="delete",
        component_kind="operation",
        component_id=987,
        component_name="Old sync",
        before={
            "id": 987,
            "name": "Old sync",
            "project_id": project.pk,
            "workflow_id": Workflow.objects.get(project=project).pk,
            "source_id": source.pk,
            "transformation_id": gone_id,  # deleted since: left out
            "target_id": target.pk,
            "position_x": 0,
            "position_y": 0,
            "version": 3,
        },
    )
    restored = component_restore(entry=entry, actor=personas["admin"])
    assert restored.pk == 987 and restored.name == "Old sync"
    assert [(s.position, s.kind, s.activity_id) for s in restored.steps.all()] == [
        (0, "source", source.pk),
        (1, "target", target.pk),
    ]


def test_history_reads_chains_and_old_slot_ids_by_name(project):
    """A change of the chain reads as the names along it; an older entry's slot ids (the
    columns are gone) still read as the activities' names, not ids."""
    connection = ConnectionFactory(project=project)
    people = ActivityFactory(connection=connection, project=project, name="People")
    more = ActivityFactory(connection=connection, project=project, name="More people")
    entry = AuditEntry.objects.create(
        project=project,
        action="update",
        component_kind="operation",
        component_name="Sync",
        before={"source_id": people.pk, "steps": [{"id": 1, "kind": "source",
                "activity_id": people.pk, "parent_id": None, "position": 0}]},
        after={"source_id": more.pk, "steps": [
            {"id": 1, "kind": "source", "activity_id": more.pk, "parent_id": None, "position": 0},
            {"id": 2, "kind": "condition", "parent_id": None, "position": 1},
            {"id": 3, "kind": "script", "parent_id": 2, "branch": "true", "position": 0},
        ]},
    )  # fmt: skip
    assert dict((k, (old, new)) for k, old, new in entry.readable_changes()) == {
        "source": ("People", "More people"),
        "steps": ("People", "More people ▸ Condition [true: Script]"),
    }
