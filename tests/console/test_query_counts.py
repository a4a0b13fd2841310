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


def test_users_page_queries_do_not_grow_with_invitations(console_client, project):
    from designer.accounts.services import invitation_create

    client = console_client("staff")

    def invite(start: int, n: int) -> None:
        for i in range(start, start + n):
            other = ProjectFactory(name=f"Q{i}")
            invitation_create(email=f"i{i}@example.org", actor=None, project=project, role="viewer")
            invitation_create(email=f"i{i}@example.org", actor=None, project=other, role="editor")

    invite(0, 2)
    few = queries(client, reverse("console:users"))
    invite(2, 18)
    many = queries(client, reverse("console:users"))
    assert many == few, (few, many)
    html = client.get(reverse("console:users")).content.decode()
    assert html.count('id="invitation-') == 20


def test_agents_page_queries_do_not_grow_with_groups(console_client, make_run):
    from designer.console.models import AgentGroup

    client = console_client("staff")

    def groups(start: int, n: int) -> None:
        for i in range(start, start + n):
            AgentGroup.objects.create(name=f"g{i}")
            project = ProjectFactory(name=f"G{i}", agent_group=f"g{i}")
            Agent.objects.create(name=f"a{i}@h", queues=[f"g{i}"], last_heartbeat=timezone.now())
            make_run(project, status=RunStatus.PENDING)

    groups(0, 2)
    few = queries(client, reverse("console:agents"))
    groups(2, 18)
    many = queries(client, reverse("console:agents"))
    assert many == few, (few, many)
