from __future__ import annotations

import pytest
from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.audit.services import RestoreError, audit_record, component_restore
from designer.design.models import Activity, Connection, ConnectionStatus, Operation
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    ProjectFactory,
    TransformationFactory,
)


def delete_with_audit(obj, project, actor):
    entry = audit_record(project=project, actor=actor, action="delete", obj=obj)
    obj.delete()
    return entry


def test_history_lists_who_did_what_with_before_and_after(client_for, project, personas):
    audit_record(
        project=project,
        actor=personas["editor"],
        action="update",
        kind="operation",
        name="Sync contacts",
        before={"timeout_seconds": 60, "name": "Sync contacts"},
        after={"timeout_seconds": 120, "name": "Sync contacts"},
    )
    audit_record(
        project=ProjectFactory(), actor=None, action="run", kind="operation", name="Theirs"
    )
    response = client_for("viewer").get(reverse("projects:history", args=[project.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "editor" in html and "Changed operation" in html and "Sync contacts" in html
    assert "<del>60</del>" in html and "<ins>120</ins>" in html
    assert "Theirs" not in html
    assert ">Restore</button>" not in html


def test_history_filters_by_action_and_kind(client_for, project):
    audit_record(project=project, action="run", kind="operation", name="Op A")
    audit_record(project=project, action="create", kind="transformation", name="Map B")
    client = client_for("viewer")
    url = reverse("projects:history", args=[project.pk])
    html = client.get(url, {"action": "run"}).content.decode()
    assert "Op A" in html and "Map B" not in html
    html = client.get(url, {"kind": "transformation"}).content.decode()
    assert "Op A" not in html and "Map B" in html


def test_restore_a_deleted_connection_with_its_activities(client_for, project, personas):
    connection = ConnectionFactory(project=project, name="CC", config={"base_url": "u"})
    connection.secrets_encrypted = "gAAAA-old-secret"
    connection.save()
    ActivityFactory(connection=connection, name="Query contacts", config={"limit": 5})
    old_pk = connection.pk
    entry = delete_with_audit(connection, project, personas["editor"])
    assert not Activity.objects.exists()

    page = client_for("editor").get(reverse("projects:history", args=[project.pk])).content.decode()
    assert reverse("projects:restore", args=[project.pk, entry.pk]) in page
    response = client_for("editor").post(reverse("projects:restore", args=[project.pk, entry.pk]))
    assert response.status_code == 302
    restored = Connection.objects.get(project=project)
    assert (restored.pk, restored.name, restored.config) == (old_pk, "CC", {"base_url": "u"})
    assert restored.secrets_encrypted == ""
    assert restored.status == ConnectionStatus.NEEDS_RECONNECT
    assert restored.updated_by == personas["editor"]
    assert list(restored.activities.values_list("name", "config")) == [
        ("Query contacts", {"limit": 5})
    ]
    entry.refresh_from_db()
    assert entry.restored_at is not None
    assert AuditEntry.objects.filter(action="restore", component_id=old_pk).exists()
    # A second restore of the same delete is refused, nothing duplicated.
    client_for("editor").post(reverse("projects:restore", args=[project.pk, entry.pk]))
    assert Connection.objects.filter(project=project).count() == 1


def test_restore_keeps_links_that_still_exist_and_renames_on_a_clash(project, personas):
    source = ActivityFactory(connection=ConnectionFactory(project=project))
    transformation = TransformationFactory(project=project)
    operation = OperationFactory(
        project=project, name="Sync", source=source, transformation=transformation
    )
    entry = delete_with_audit(operation, project, personas["admin"])
    transformation.delete()
    OperationFactory(project=project, name="Sync")  # the name was reused since
    restored = component_restore(entry=entry, actor=personas["admin"])
    assert isinstance(restored, Operation)
    assert restored.name == "Sync (restored)"
    assert restored.source_id == source.pk and restored.transformation_id is None


def test_an_activity_of_a_deleted_connection_needs_the_connection_first(project, personas):
    connection = ConnectionFactory(project=project)
    activity = ActivityFactory(connection=connection)
    entry = delete_with_audit(activity, project, personas["admin"])
    connection.delete()
    with pytest.raises(RestoreError, match="Restore the connection"):
        component_restore(entry=entry, actor=personas["admin"])
    assert not Activity.objects.exists()


@pytest.mark.parametrize("persona", ["operator", "viewer"])
def test_only_designers_restore(client_for, project, personas, persona):
    transformation = TransformationFactory(project=project, name="Map")
    entry = delete_with_audit(transformation, project, personas["admin"])
    response = client_for(persona).post(reverse("projects:restore", args=[project.pk, entry.pk]))
    assert response.status_code == 403
    assert not project.transformations.exists()


def test_an_entry_of_another_project_cant_be_restored_here(client_for, project, personas):
    other = ProjectFactory()
    entry = delete_with_audit(TransformationFactory(project=other), other, None)
    response = client_for("admin").post(reverse("projects:restore", args=[project.pk, entry.pk]))
    assert response.status_code == 404
    assert not other.transformations.exists()


def test_only_delete_entries_restore(project, personas):
    entry = audit_record(project=project, actor=None, action="run", kind="operation", name="x")
    with pytest.raises(RestoreError, match="Only a deleted"):
        component_restore(entry=entry, actor=personas["admin"])


def test_project_create_rename_delete_are_audited(client_for, personas):
    client = client_for("outsider")
    client.post(reverse("projects:list"), {"name": "Audited", "description": ""})
    entry = AuditEntry.objects.get(action="create", component_kind="project")
    project_id = entry.project_id
    client.post(reverse("projects:rename", args=[project_id]), {"name": "Audited 2"})
    change = AuditEntry.objects.get(action="update", component_kind="project")
    assert (change.before, change.after) == ({"name": "Audited"}, {"name": "Audited 2"})
    client.post(reverse("projects:delete", args=[project_id]))
    gone = AuditEntry.objects.get(action="delete", component_kind="project")
    assert gone.project_id is None and gone.project_name == "Audited 2"
    assert gone.actor_name == "outsider"


def test_history_of_one_component(client_for, project):
    audit_record(project=project, action="update", kind="operation", name="Op A")
    first = audit_record(project=project, action="update", kind="operation", name="Op B")
    AuditEntry.objects.filter(pk=first.pk).update(component_id=7)
    html = (
        client_for("viewer")
        .get(reverse("projects:history", args=[project.pk]), {"kind": "operation", "id": "7"})
        .content.decode()
    )
    assert "Op B" in html and "Op A" not in html
