from __future__ import annotations

import json

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from designer.audit.models import AuditEntry
from designer.audit.services import audit_record, audit_snapshot
from tests.factories import ActivityFactory, ConnectionFactory


def test_record_strips_secrets_whatever_the_caller_passes(project, personas):
    entry = audit_record(
        project=project,
        actor=personas["editor"],
        action="update",
        kind="connection",
        name="CC",
        before={"config": {"client_id": "a", "client_secret": "old"}},
        after={"config": {"client_id": "b", "client_secret": "new"}, "token": "t"},
    )
    entry.refresh_from_db()
    assert entry.before == {"config": {"client_id": "a"}}
    assert entry.after == {"config": {"client_id": "b"}}
    assert entry.actor_name == "editor"
    assert entry.project_name == "Acme sync"
    assert entry.changes() == [("config", {"client_id": "a"}, {"client_id": "b"})]
    assert "new" not in str(AuditEntry.objects.values_list("after", flat=True)[0])


def test_delete_snapshots_the_object_with_its_activities(project, personas):
    connection = ConnectionFactory(project=project, name="CC", config={"base_url": "u"})
    connection.secrets_encrypted = "gAAAA-encrypted"
    connection.save()
    ActivityFactory(connection=connection, name="Query contacts", config={"limit": 5})
    entry = audit_record(project=project, actor=personas["admin"], action="delete", obj=connection)
    assert entry.component_kind == "connection"
    assert entry.component_id == connection.pk
    assert entry.component_name == "CC"
    assert entry.before["config"] == {"base_url": "u"}
    assert "secrets_encrypted" not in entry.before
    assert [a["name"] for a in entry.before["activities"]] == ["Query contacts"]


def test_system_actor_is_named_system(project):
    entry = audit_record(project=project, actor=None, action="run", kind="operation", name="Sync")
    assert entry.actor is None and entry.actor_name == "system"


def test_snapshot_is_plain_json(project):
    """Dates, nested config and activities come out as what json.dumps takes as it is (no
    custom encoder), and read back equal."""
    tested = timezone.now().replace(microsecond=123000)  # the encoder keeps milliseconds
    connection = ConnectionFactory(
        project=project, config={"lists": ["a", "b"], "limits": {"rate": 4}}, last_tested_at=tested
    )
    ActivityFactory(connection=connection, name="Query", config={"since": "2025-01-01"})
    snap = audit_snapshot(connection)

    assert json.loads(json.dumps(snap)) == snap
    assert snap["project_id"] == project.pk
    assert parse_datetime(snap["last_tested_at"]) == tested
    assert snap["config"] == {"lists": ["a", "b"], "limits": {"rate": 4}}
    assert [a["config"] for a in snap["activities"]] == [{"since": "2025-01-01"}]
