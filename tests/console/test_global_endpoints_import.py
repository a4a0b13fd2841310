"""Importing a project whose activities are on a global endpoint shared with chosen projects
only (issue 12). The new project can't be among the chosen before it exists, so:

- a staff importer (who could share it in the console anyway) gets the new project added to
  that endpoint's chosen projects: the narrowest sharing that makes the import work, audited
  as a change of the endpoint and named in the import's history entry;
- anyone else is refused, nothing imported, with a message saying what a staff member must do
  (it used to advise sharing the endpoint with all projects: far wider than needed)."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.design.models import Activity, Connection, Operation
from designer.projects.models import Project
from designer.transfer import services as transfer
from designer.transfer.validation import ProjectImportError
from tests.console.test_global_endpoints import make_global
from tests.factories import ActivityFactory, MembershipFactory, OperationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(project):
    """An export of ``project`` with an operation on "Chosen CC", shared with it only."""
    shared = make_global("Chosen CC", shared_with=[project])
    query = ActivityFactory(
        project=project, connection=shared, activity_type="query", name="All contacts"
    )
    create = ActivityFactory(
        project=project, connection=shared, activity_type="create", name="Add contact"
    )
    OperationFactory(project=project, name="Sync", source=query, target=create)
    return shared, transfer.project_export(project=project)


def upload(document) -> io.BytesIO:
    file = io.BytesIO(json.dumps(document).encode())
    file.name = "export.json"
    return file


def test_a_staff_importer_shares_it_with_the_new_project(client, project, exported):
    shared, document = exported
    boss = UserFactory(username="boss", is_staff=True)
    client.force_login(boss)
    response = client.post(
        reverse("transfer:import"), {"file": upload(document), "name": "Copy"}, follow=True
    )
    assert response.status_code == 200
    copy = Project.objects.get(name="Copy")
    assert response.redirect_chain[-1][0] == reverse("projects:settings", args=[copy.pk])

    shared.refresh_from_db()
    assert not shared.shared_with_all  # still the chosen ones, plus the new project
    assert set(shared.shared_with.all()) == {project, copy}
    sync = Operation.objects.get(project=copy, name="Sync")
    steps = list(sync.steps.exclude(activity=None).select_related("activity"))
    assert {s.activity.connection_id for s in steps} == {shared.pk}
    assert {s.activity.project_id for s in steps} == {copy.pk}
    assert not Connection.objects.filter(project=copy).exists()

    change = AuditEntry.objects.get(project=None, action="update", component_id=shared.pk)
    assert change.actor == boss and change.component_kind == "global endpoint"
    assert change.before["shared_with"] == [project.name]
    assert change.after["shared_with"] == sorted([project.name, "Copy"])
    imported = AuditEntry.objects.get(project=copy, action="import")
    assert imported.after["shared_global_endpoints"] == ["Chosen CC"]


def test_anyone_else_is_refused_saying_what_staff_must_do(client_for, personas, exported):
    shared, document = exported
    with pytest.raises(ProjectImportError) as refused:
        transfer.project_import(document=document, actor=personas["admin"], name="Copy")
    message = str(refused.value)
    assert "global endpoint “Chosen CC” here is shared only with chosen projects" in message
    assert "a staff member" in message and "all projects" not in message
    assert not Project.objects.filter(name="Copy").exists()
    assert list(shared.shared_with.all()) == [shared.shared_with.get()]
    assert not AuditEntry.objects.filter(project=None, component_id=shared.pk).exists()

    # The import page says so too, and imports nothing.
    response = client_for("admin").post(
        reverse("transfer:import"), {"file": upload(document), "name": "Copy"}
    )
    assert response.status_code == 422
    assert "a staff member" in response.content.decode()
    assert not Project.objects.filter(name="Copy").exists()


def test_a_staff_import_that_fails_later_shares_nothing(project, exported):
    shared, document = exported
    document["operations"][0]["steps"][0]["activity"]["activity"] = "No such activity"
    with pytest.raises(ProjectImportError, match="no activity “No such activity”"):
        transfer.project_import(
            document=document, actor=UserFactory(username="boss", is_staff=True), name="Copy"
        )
    assert set(shared.shared_with.all()) == {project}
    assert not Activity.objects.exclude(project=project).exists()
    assert not AuditEntry.objects.filter(project=None, component_id=shared.pk).exists()


def test_an_endpoint_shared_with_all_needs_no_change(project):
    shared = make_global("Everyone CC")
    ActivityFactory(project=project, connection=shared, activity_type="query", name="Q")
    document = transfer.project_export(project=project)
    member = UserFactory(username="member")
    MembershipFactory(project=project, user=member, role="viewer")
    copy = transfer.project_import(document=document, actor=member, name="Copy")
    assert Activity.objects.get(project=copy).connection_id == shared.pk
    assert shared.shared_with.count() == 0 and "shared_global_endpoints" not in (
        AuditEntry.objects.get(project=copy, action="import").after
    )
