"""Entries written from model signals: deletes (restorable), creations and runs are in the
history even when the code doing them does not call audit_record itself."""

from __future__ import annotations

import json

from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.audit.services import audit_record
from designer.design.models import Activity, Connection, Transformation
from designer.runs.models import OperationRun
from designer.transfer import services as transfer
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
    UserFactory,
)


def component_action(client, project, kind, obj, action, **data):
    url = reverse("design:component_action", args=[project.pk, kind, obj.pk, action])
    return client.post(url, data, HTTP_HX_REQUEST="true")


def test_a_delete_in_the_designer_is_recorded_by_who_and_can_be_restored(client_for, project):
    transformation = TransformationFactory(project=project, name="Map", mapping=[{"target": "a"}])
    AuditEntry.objects.all().delete()
    component_action(client_for("editor"), project, "transformation", transformation, "delete")
    assert not Transformation.objects.filter(project=project).exists()
    entry = AuditEntry.objects.get(action="delete")
    assert (entry.actor_name, entry.component_kind, entry.component_name) == (
        "editor",
        "transformation",
        "Map",
    )
    assert entry.automatic and entry.before["mapping"] == [{"target": "a"}]
    client_for("editor").post(reverse("projects:restore", args=[project.pk, entry.pk]))
    assert Transformation.objects.get(project=project).mapping == [{"target": "a"}]
    # The restore is one "Restored" entry, not also a "Created".
    assert list(AuditEntry.objects.exclude(pk=entry.pk).values_list("action", flat=True)) == [
        "restore"
    ]


def test_deleting_an_endpoint_is_one_entry_that_brings_its_activities_back(client_for, project):
    connection = ConnectionFactory(project=project, name="CC")
    ActivityFactory(connection=connection, name="Query contacts")
    ActivityFactory(connection=connection, name="Create contacts")
    AuditEntry.objects.all().delete()
    component_action(client_for("admin"), project, "connection", connection, "delete")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.component_kind, entry.actor_name) == (
        "delete",
        "connection",
        "admin",
    )
    client_for("admin").post(reverse("projects:restore", args=[project.pk, entry.pk]))
    restored = Connection.objects.get(project=project)
    assert sorted(restored.activities.values_list("name", flat=True)) == [
        "Create contacts",
        "Query contacts",
    ]


def test_a_copy_made_in_the_designer_is_recorded_as_created(client_for, project):
    transformation = TransformationFactory(project=project, name="Map")
    AuditEntry.objects.all().delete()
    component_action(client_for("editor"), project, "transformation", transformation, "duplicate")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_name, entry.component_kind) == (
        "create",
        "editor",
        "transformation",
    )
    assert entry.component_name != "Map"


def test_a_started_run_is_recorded_with_who_started_it(project, personas):
    operation = OperationFactory(project=project, name="Sync")
    AuditEntry.objects.all().delete()
    run = OperationRun.objects.create(
        project=project,
        operation=operation,
        trigger="manual",
        queue="default",
        triggered_by=personas["operator"],
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_name, entry.component_name) == ("run", "operator", "Sync")
    assert entry.after == {"run": run.pk, "trigger": "manual"}


def test_an_explicit_record_wins_over_the_signal(project, personas):
    actor = personas["editor"]
    transformation = TransformationFactory(project=project, name="Map")  # signal: "create"
    audit_record(project=project, actor=actor, action="create", obj=transformation)
    created = AuditEntry.objects.filter(action="create", component_kind="transformation")
    assert [(e.automatic, e.actor_name) for e in created] == [(False, "editor")]
    audit_record(project=project, actor=actor, action="delete", obj=transformation)
    transformation.delete()  # the signal finds the explicit entry and writes nothing
    assert AuditEntry.objects.filter(action="delete").count() == 1


def test_a_deleted_project_is_one_entry(client_for, project):
    ActivityFactory(connection=ConnectionFactory(project=project))
    OperationFactory(project=project)
    AuditEntry.objects.all().delete()
    client_for("admin").post(reverse("projects:delete", args=[project.pk]))
    assert list(AuditEntry.objects.values_list("action", "component_kind")) == [
        ("delete", "project")
    ]


def test_an_import_is_one_entry(project):
    ActivityFactory(connection=ConnectionFactory(project=project))
    document = json.loads(json.dumps(transfer.project_export(project=project)))
    AuditEntry.objects.all().delete()
    copy = transfer.project_import(document=document, actor=UserFactory())
    assert Activity.objects.filter(project=copy).count() == 1
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["import"]
