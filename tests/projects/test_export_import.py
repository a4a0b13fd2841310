from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.crypto import encrypt_json
from designer.design.models import Connection, ConnectionStatus, Operation
from designer.projects import services
from designer.projects.models import Membership, Project, Role, Variable
from designer.runs.models import Schedule
from designer.runs.schedules import schedule_save
from designer.transfer import services as transfer
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
    UserFactory,
)

SECRETS = ("s3cr3t-client", "tok-access-123", "tok-refresh-456", "hunter2-var")


@pytest.fixture
def full_project(project, personas):
    """A project with every component kind, secrets in every place they can be."""
    services.variable_create(
        project=project, name="list_id", value="L-42", is_secret=False, actor=None
    )
    services.variable_create(
        project=project, name="api_key", value="hunter2-var", is_secret=True, actor=None
    )
    cc = ConnectionFactory(
        project=project,
        name="Constant Contact",
        config={
            "client_id": "cid-1",
            "base_url": "http://127.0.0.1:8765",
            "client_secret": "s3cr3t-client",
        },
        secrets_encrypted=encrypt_json(
            {
                "client_secret": "s3cr3t-client",
                "access_token": "tok-access-123",
                "refresh_token": "tok-refresh-456",
            }
        ),
        status=ConnectionStatus.CONNECTED,
    )
    query = ActivityFactory(
        connection=cc,
        name="Query contacts",
        activity_type="query",
        config={"list_ids": ["[list_id]"]},
        state={"since": "2026-01-01"},
    )
    create = ActivityFactory(
        connection=cc,
        name="Create contacts",
        activity_type="create",
        config={"list_ids": ["[list_id]"]},
    )
    mapping = [{"target": "email_address.address", "kind": "path", "value": "email"}]
    transformation = TransformationFactory(
        project=project, name="Contacts to contacts", mapping=mapping
    )
    second = OperationFactory(project=project, name="Cleanup", position_x=300)
    first = OperationFactory(
        project=project,
        name="Sync",
        source=query,
        transformation=transformation,
        target=create,
        position_x=40,
        position_y=80,
        timeout_seconds=600,
        on_success=second,
        on_fail=second,
        on_agent_lost="requeue",
    )
    schedule_save(operation=first, cron="15 3 * * 1-5", tz="Europe/Paris", enabled=True)
    return project


def test_export_has_every_component_and_no_secret(client_for, full_project):
    response = client_for("editor").get(reverse("transfer:export", args=[full_project.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="acme-sync.designer.json"'
    text = response.content.decode()
    for secret in SECRETS:
        assert secret not in text
    doc = json.loads(text)
    assert (doc["format"], doc["format_version"]) == (transfer.FORMAT, transfer.FORMAT_VERSION)
    assert [v["name"] for v in doc["variables"]] == ["api_key", "list_id"]
    assert doc["variables"][0] == {"name": "api_key", "is_secret": True}
    [connection] = doc["connections"]
    assert connection["config"] == {"client_id": "cid-1", "base_url": "http://127.0.0.1:8765"}
    assert [a["name"] for a in connection["activities"]] == ["Create contacts", "Query contacts"]
    assert "state" not in connection["activities"][1]
    sync = next(o for o in doc["operations"] if o["name"] == "Sync")
    assert sync["steps"][0] == {
        "kind": "source",
        "activity": {"connection": "Constant Contact", "activity": "Query contacts"},
    }
    assert [step["kind"] for step in sync["steps"]] == ["source", "transformation", "target"]
    assert sync["workflow"] == "Workflow 1"
    assert sync["on_success"] == "Cleanup"
    assert doc["schedules"] == [
        {"operation": "Sync", "cron": "15 3 * * 1-5", "timezone": "Europe/Paris", "enabled": True}
    ]
    assert AuditEntry.objects.filter(action="export", project=full_project).exists()


def test_viewers_and_operators_cant_export(client_for, project):
    assert (
        client_for("viewer").get(reverse("transfer:export", args=[project.pk])).status_code == 403
    )


def test_export_then_import_round_trips(full_project, db):
    document = json.loads(json.dumps(transfer.project_export(project=full_project)))
    importer = UserFactory(username="importer")
    copy = transfer.project_import(document=document, actor=importer)

    assert copy.pk != full_project.pk and copy.name == "Acme sync"
    assert Membership.objects.get(project=copy).role == Role.ADMIN
    # Exporting the copy gives the same document, apart from the time stamp.
    again = json.loads(json.dumps(transfer.project_export(project=copy)))
    # Schedules come back disabled: the endpoints need their credentials first.
    assert again["schedules"][0]["enabled"] is False
    again["schedules"][0]["enabled"] = True
    for doc in (document, again):
        doc.pop("exported_at")
    assert again == document

    connection = Connection.objects.get(project=copy)
    assert connection.secrets_encrypted == ""
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert "credentials" in connection.status_message
    secret = Variable.objects.get(project=copy, name="api_key")
    assert secret.is_secret and secret.resolved_value() == ""
    sync = Operation.objects.get(project=copy, name="Sync")
    assert sync.source.connection_id == connection.pk and sync.on_fail.name == "Cleanup"
    assert Schedule.objects.get(project=copy).operation_id == sync.pk


def test_import_view_asks_for_credentials_again(client_for, full_project):
    document = transfer.project_export(project=full_project)
    upload = io.BytesIO(json.dumps(document).encode())
    upload.name = "acme.json"
    response = client_for("outsider").post(
        reverse("transfer:import"), {"file": upload, "name": "Acme copy"}, follow=True
    )
    assert response.status_code == 200
    copy = Project.objects.get(name="Acme copy")
    assert response.redirect_chain[-1][0] == reverse("projects:settings", args=[copy.pk])
    assert "Enter the credentials of its 1 endpoint(s) again" in response.content.decode()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="something-else"), "is not a project export"),
        (lambda d: d.update(format_version=99), "99 is newer than this installation reads"),
        (
            lambda d: d["connections"][0].update(connector_key="nope"),
            "connector “nope” is not installed",
        ),
        (lambda d: d["operations"][1].update(transformation="Gone"), "no transformation “Gone”"),
        (lambda d: d["operations"][1].update(on_success="Ghost"), "no operation “Ghost” to run"),
        (lambda d: d["variables"].append({"name": "list_id"}), "duplicate names ['list_id']"),
        (
            lambda d: d["connections"][0]["activities"][0].update(activity_type="teleport"),
            "no activity type “teleport”",
        ),
        (
            lambda d: d["operations"][1].update(source={"connection": "X", "activity": "Y"}),
            "no activity “Y” in connection “X”",
        ),
        (lambda d: d["connections"][0].update(name="a/b"), "connections[0] “a/b”: name"),
        (lambda d: d["schedules"][0].update(cron="not a cron"), "schedules[0]"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_created(full_project, mutate, message):
    document = json.loads(json.dumps(transfer.project_export(project=full_project)))
    mutate(document)
    before = (Project.objects.count(), Connection.objects.count(), Variable.objects.count())
    with pytest.raises(
        transfer.ProjectImportError, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        transfer.project_import(document=document, actor=UserFactory())
    assert (Project.objects.count(), Connection.objects.count(), Variable.objects.count()) == before


def test_import_of_a_file_that_is_not_json_says_so(client_for, project):
    upload = io.BytesIO(b"\x89PNG not json")
    upload.name = "x.json"
    response = client_for("viewer").post(reverse("transfer:import"), {"file": upload})
    assert response.status_code == 422
    assert "Nothing was imported" in response.content.decode()
    assert Project.objects.count() == 1


def test_commands_move_a_project_between_installations(full_project, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "acme.json"
    call_command("export_project", str(full_project.pk), "-o", str(path))
    text = path.read_text()
    assert all(secret not in text for secret in SECRETS)
    UserFactory(username="ops")
    out = io.StringIO()
    call_command("import_project", str(path), "--user", "ops", "--name", "Acme (copy)", stdout=out)
    copy = Project.objects.get(name="Acme (copy)")
    assert f"(id {copy.pk})" in out.getvalue()
    assert Membership.objects.get(project=copy).user.username == "ops"
    path.write_text('{"format": "nope"}')
    with pytest.raises(CommandError, match=r"Nothing was imported\. file: is not a project export"):
        call_command("import_project", str(path), "--user", "ops")
