"""Restoring a deleted activity from the History page when it was built on a global endpoint
(issue 12): it comes back only while that endpoint is still shared with the project. An
activity can't be left without an endpoint, so an unshared one is refused, saying what to do,
rather than restored onto an endpoint the project can no longer see or use."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.audit.services import RestoreError, audit_record, component_restore
from designer.console import endpoint_services
from designer.design.models import Activity, Connection
from tests.console.test_global_endpoints import make_global
from tests.factories import ActivityFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def delete_with_audit(activity: Activity, actor) -> AuditEntry:
    entry = audit_record(project=activity.project, actor=actor, action="delete", obj=activity)
    activity.delete()
    return entry


def share_with(connection: Connection, projects) -> None:
    endpoint_services.global_endpoint_update(
        connection=connection,
        expected_version=Connection.objects.get(pk=connection.pk).version,
        name=connection.name,
        config=connection.config,
        secrets={},
        shared_with=[p.pk for p in projects],
        actor=UserFactory(username="boss", is_staff=True),
    )


def restore(client, project, entry):
    response = client.post(reverse("projects:restore", args=[project.pk, entry.pk]))
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_activity_on_a_global_endpoint_unshared_since_is_not_restored(
    client_for, project, personas
):
    other = ProjectFactory(name="Other")
    shared = make_global("Chosen CC", shared_with=[project, other])
    activity = ActivityFactory(
        project=project, connection=shared, activity_type="query", name="All contacts"
    )
    entry = delete_with_audit(activity, personas["editor"])
    # Nobody in the project uses it now: staff may stop sharing it with the project.
    share_with(shared, [other])

    said = restore(client_for("editor"), project, entry)
    assert not Activity.objects.filter(project=project).exists()
    assert said == [
        "Couldn't restore “All contacts”: Its global endpoint “Chosen CC” is no longer shared "
        "with this project: ask staff to share it again (console, Global endpoints), then "
        "restore it."
    ]
    entry.refresh_from_db()
    assert entry.restored_at is None  # it can be restored once shared again
    share_with(shared, [project, other])
    restored = component_restore(entry=entry, actor=personas["editor"])
    assert (restored.project_id, restored.connection_id) == (project.pk, shared.pk)


def test_an_activity_on_a_global_endpoint_still_shared_is_restored(client_for, project, personas):
    shared = make_global("Shared CC")  # with every project
    activity = ActivityFactory(
        project=project, connection=shared, activity_type="query", name="All contacts"
    )
    entry = delete_with_audit(activity, personas["editor"])
    said = restore(client_for("editor"), project, entry)
    assert said == ["Restored activity “All contacts”."]
    restored = Activity.objects.get(project=project)
    assert restored.connection_id == shared.pk


def test_its_name_is_only_checked_against_the_projects_own_activities_on_it(project, personas):
    """Projects name their activities on a global endpoint freely: another project's activity
    of the same name is no clash."""
    shared = make_global("Shared CC")
    ActivityFactory(
        project=ProjectFactory(name="Other"),
        connection=shared,
        activity_type="query",
        name="All contacts",
    )
    activity = ActivityFactory(
        project=project, connection=shared, activity_type="query", name="All contacts"
    )
    entry = delete_with_audit(activity, personas["editor"])
    assert component_restore(entry=entry, actor=personas["editor"]).name == "All contacts"


def test_an_activity_on_another_projects_endpoint_is_not_restored(project, personas):
    """A snapshot naming an endpoint the project can't use (another project's) is refused."""
    activity = ActivityFactory(project=project, activity_type="query", name="Mine")
    entry = delete_with_audit(activity, personas["editor"])
    theirs = ActivityFactory(project=ProjectFactory(name="Other"), name="Theirs").connection
    entry.before = {**entry.before, "connection_id": theirs.pk}
    entry.save(update_fields=["before"])
    with pytest.raises(RestoreError, match="not one of this project's endpoints"):
        component_restore(entry=entry, actor=personas["editor"])
    assert not Activity.objects.filter(project=project).exists()
