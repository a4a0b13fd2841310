"""Console pages cost the same number of queries with 2 rows or 20 (no query per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from designer.audit.services import audit_record
from designer.runs.models import Agent, RunStatus
from tests.factories import ConnectionFactory, MembershipFactory, ProjectFactory, UserFactory


def add_rows(n, make_run, offset=0):
    for i in range(offset, offset + n):
        project = ProjectFactory(name=f"P{i}")
        MembershipFactory(project=project, user=UserFactory(username=f"u{i}"), role="editor")
        ConnectionFactory(project=project)
        agent = Agent.objects.create(
            name=f"w{i}@h", queues=["default"], last_heartbeat=timezone.now()
        )
        make_run(project, status=RunStatus.RUNNING, agent=agent)
        audit_record(project=project, actor=None, action="run", kind="operation", name=f"op{i}")


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["index", "runs", "agents", "projects", "users", "audit"])
def test_console_page_queries_do_not_grow_with_rows(console_client, make_run, name):
    client = console_client("staff")
    url = reverse(f"console:{name}")
    add_rows(2, make_run)
    few = queries(client, url)
    add_rows(18, make_run, offset=2)
    many = queries(client, url)
    assert many == few, (name, few, many)
