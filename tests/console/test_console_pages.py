from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from designer.audit.services import audit_record
from designer.projects.models import Role
from designer.runs.models import Agent, RunStatus
from tests.factories import (
    ConnectionFactory,
    MembershipFactory,
    OperationFactory,
    ProjectFactory,
    UserFactory,
)


def html_of(client, name, **params):
    response = client.get(reverse(f"console:{name}"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_admin_sees_only_projects_they_administer_staff_sees_all(console_client, project, make_run):
    other = ProjectFactory(name="Other team")
    run_here = make_run(project, operation=OperationFactory(project=project, name="Sync here"))
    run_there = make_run(other, operation=OperationFactory(project=other, name="Sync there"))
    audit_record(project=other, actor=None, action="run", kind="operation", name="Sync there")
    # The viewer is only a viewer in "Other team": not enough to see it in the console.
    MembershipFactory(project=other, user=UserFactory(username="viewer"), role=Role.VIEWER)

    admin = console_client("admin")
    runs_html = html_of(admin, "runs")
    assert f'id="run-{run_here.pk}"' in runs_html and f'id="run-{run_there.pk}"' not in runs_html
    assert "Other team" not in html_of(admin, "projects")
    assert "Other team" not in html_of(admin, "audit")
    assert admin.get(reverse("console:runs"), {"project": other.pk}).status_code == 404
    cancel = admin.post(reverse("console:run_cancel", args=[run_there.pk]))
    assert cancel.status_code == 404

    staff = console_client("staff")
    runs_html = html_of(staff, "runs")
    assert f'id="run-{run_here.pk}"' in runs_html and f'id="run-{run_there.pk}"' in runs_html
    assert "Other team" in html_of(staff, "projects")
    assert "Sync there" in html_of(staff, "audit")


def test_runs_filter_by_project_status_and_time(console_client, project, make_run):
    other = ProjectFactory(name="Other")
    now = timezone.now()
    ok = make_run(project, status=RunStatus.SUCCESS)
    failed = make_run(project, status=RunStatus.ERROR)
    old = make_run(project, status=RunStatus.ERROR, created_at=now - timedelta(days=10))
    running = make_run(project, status=RunStatus.RUNNING)
    elsewhere = make_run(other, status=RunStatus.ERROR)
    staff = console_client("staff")

    def shown(**params):
        html = html_of(staff, "runs", **params)
        return {r.pk for r in (ok, failed, old, running, elsewhere) if f'id="run-{r.pk}"' in html}

    assert shown() == {ok.pk, failed.pk, old.pk, running.pk, elsewhere.pk}
    assert shown(project=project.pk) == {ok.pk, failed.pk, old.pk, running.pk}
    assert shown(status="error") == {failed.pk, old.pk, elsewhere.pk}
    assert shown(status="active") == {running.pk}
    since = (now - timedelta(days=2)).date().isoformat()
    assert shown(status="error", since=since) == {failed.pk, elsewhere.pk}
    until = (now - timedelta(days=5)).date().isoformat()
    assert shown(until=until) == {old.pk}


def test_runs_page_links_to_run_pages_and_cancels(console_client, project, make_run):
    running = make_run(project, status=RunStatus.RUNNING)
    staff = console_client("staff")
    html = html_of(staff, "runs")
    assert reverse("console:run", args=[running.pk]) in html
    assert 'hx-select="#runs-table"' in html and 'hx-trigger="every 10s"' in html
    # The project's own run page only for members: staff outside the project would get 404.
    assert reverse("runs:detail", args=[project.pk, running.pk]) not in html
    admin_html = html_of(console_client("admin"), "runs")
    assert reverse("runs:detail", args=[project.pk, running.pk]) in admin_html
    response = staff.post(
        reverse("console:run_cancel", args=[running.pk]), {"next": "/console/runs/?status=active"}
    )
    assert response["Location"] == "/console/runs/?status=active"
    running.refresh_from_db()
    assert running.status == RunStatus.CANCEL_REQUESTED
    audit = html_of(staff, "audit", action="cancel")
    assert f"run {running.pk}" in audit and "staff" in audit
    # Cancelling an ended run says so and changes nothing.
    done = make_run(project, status=RunStatus.SUCCESS)
    staff.post(reverse("console:run_cancel", args=[done.pk]))
    done.refresh_from_db()
    assert done.status == RunStatus.SUCCESS


def group_section(html: str, name: str) -> str:
    return html.split(f'id="group-{name}"')[1].split("</section>")[0]


def agent_row(section: str, agent) -> str:
    return section.split(f'data-agent="{agent.pk}"')[1].split("</tr>")[0]


def test_agents_by_group_online_offline_and_runs_in_progress(console_client, project, make_run):
    now = timezone.now()
    live = Agent.objects.create(
        name="w1@host", hostname="host-a", queues=["default"], last_heartbeat=now
    )
    silent = Agent.objects.create(
        name="w2@host", queues=["default", "bulk"], last_heartbeat=now - timedelta(hours=1)
    )
    elsewhere = Agent.objects.create(name="w3@host", queues=["eu"], last_heartbeat=now)
    make_run(project, status=RunStatus.RUNNING, agent=live)
    make_run(project, status=RunStatus.RUNNING, agent=live)
    make_run(project, status=RunStatus.SUCCESS, agent=live)

    html = html_of(console_client("staff"), "agents")
    default = group_section(html, "default")
    row = agent_row(default, live)
    assert "Online" in row and ">2</a>" in row and "host-a" in row
    row = agent_row(default, silent)
    assert "Offline" in row and "also bulk" in row
    assert f'data-agent="{silent.pk}"' in group_section(html, "bulk")
    assert f'data-agent="{elsewhere.pk}"' in group_section(html, "eu")
    assert "celery -A designer worker -Q default --hostname default-agent@%h" in default
    assert "Acme sync" in default  # the project on this group

    # A project Admin sees the groups of their projects only.
    admin_html = html_of(console_client("admin"), "agents")
    assert f'data-agent="{live.pk}"' in group_section(admin_html, "default")
    assert 'id="group-eu"' not in admin_html and f'data-agent="{elsewhere.pk}"' not in admin_html


def test_group_with_pending_runs_and_no_live_agent_is_flagged(console_client, project, make_run):
    from designer.console.models import AgentGroup

    AgentGroup.objects.create(name="night")
    project.agent_group = "night"
    project.save()
    Agent.objects.create(
        name="old@host", queues=["night"], last_heartbeat=timezone.now() - timedelta(hours=2)
    )
    staff = console_client("staff")
    assert "waiting and no live agent" not in html_of(staff, "agents")
    make_run(project, status=RunStatus.PENDING)
    make_run(project, status=RunStatus.PENDING)
    section = group_section(html_of(staff, "agents"), "night")
    assert "2 runs waiting and no live agent" in section
    assert 'data-queue-depth><a href="/console/runs/?status=pending">2</a>' in section
    overview = html_of(staff, "index")
    assert (
        "Agent group" in overview
        and 'href="/console/agents/#group-night">night</a>: 2 runs' in overview
    )
    # A live agent clears the flag.
    Agent.objects.create(name="new@host", queues=["night"], last_heartbeat=timezone.now())
    assert "no live agent" not in html_of(staff, "agents")
    assert "no live agent" not in html_of(staff, "index")


def test_projects_page_counts_and_members(console_client, project, make_run):
    ConnectionFactory(project=project)
    ConnectionFactory(project=project)
    operation = OperationFactory(project=project)
    make_run(project, operation=operation)
    make_run(project, operation=operation, status=RunStatus.RUNNING)
    html = html_of(console_client("admin"), "projects")
    row = html.split(f'id="project-{project.pk}"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<")[0].strip() for c in row.split("<td")[1:]]
    # endpoints, operations (operation + one per make_run without operation: none here), runs
    assert cells[3:5] == ["2", "1"]
    assert ">2</a>" in row and "1 in progress" in row
    for name in ("admin", "editor", "operator", "viewer"):
        assert name in row


def test_users_page_scope_and_search(console_client, project):
    UserFactory(username="zed", email="zed@elsewhere.test")
    staff_html = html_of(console_client("staff"), "users")
    assert "zed@elsewhere.test" in staff_html
    admin_html = html_of(console_client("admin"), "users")
    assert "zed" not in admin_html and "operator" in admin_html
    found = html_of(console_client("staff"), "users", q="elsewhere")
    assert "zed" in found and 'id="user-' in found and "operator@" not in found


def test_front_page_chart_counts_runs_per_day_by_status(console_client, project, make_run):
    now = timezone.now()
    for _ in range(3):
        make_run(project, status=RunStatus.SUCCESS)
    make_run(project, status=RunStatus.ERROR)
    make_run(project, status=RunStatus.ERROR, created_at=now - timedelta(days=1))
    make_run(project, status=RunStatus.SUCCESS, created_at=now - timedelta(days=30))  # too old
    html = html_of(console_client("staff"), "index")
    assert "<svg" in html and 'role="img"' in html
    assert html.count('data-status="success" data-count="3"') == 1
    assert html.count('data-status="error" data-count="1"') == 2
    # The tallest day (4 runs) fills the chart's 100 units: 3 success + 1 error.
    assert re.search(r'height="75\.00"[^>]*data-status="success" data-count="3"', html)
    assert "Runs per day, last 14 days" in html


def test_run_page_shows_the_log_and_failures_to_staff_outside_the_project(
    console_client, project, make_run
):
    from designer.runs.models import RecordFailure, RunLogLine

    run = make_run(project, status=RunStatus.WARNING, failed_records=1, message="1 failed")
    RunLogLine.objects.create(run=run, message="Read 10 records from Query contacts")
    RecordFailure.objects.create(run=run, index=4, key="a@b.test", error_message="Bad email")
    response = console_client("staff").get(reverse("console:run", args=[run.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Read 10 records from Query contacts" in html
    assert "a@b.test" in html and "Bad email" in html and "Success with Warning" in html
    other = make_run(ProjectFactory())
    assert console_client("admin").get(reverse("console:run", args=[other.pk])).status_code == 404


def test_durations_read_as_people_write_them():
    from datetime import timedelta

    from designer.console.templatetags.console_tags import duration

    assert duration(None) == "\u2013"
    assert duration(timedelta(seconds=12.44)) == "12.4 s"
    assert duration(timedelta(seconds=187)) == "3 min 07 s"
    assert duration(timedelta(hours=2, minutes=5, seconds=9)) == "2 h 05 min"


def test_agent_page_shows_its_recent_runs_within_scope(console_client, project, make_run):
    from designer.console.models import AgentGroup

    AgentGroup.objects.create(name="eu")
    agent = Agent.objects.create(
        name="w1@host", hostname="host-a", queues=["default", "eu"], last_heartbeat=timezone.now()
    )
    other = ProjectFactory(name="Other team", agent_group="eu")
    mine = make_run(project, status=RunStatus.SUCCESS, agent=agent)
    theirs = make_run(other, status=RunStatus.ERROR, agent=agent)
    elsewhere = make_run(project, status=RunStatus.SUCCESS)  # no agent
    url = reverse("console:agent", args=[agent.pk])
    html = console_client("staff").get(url).content.decode()
    assert "host-a" in html and "Online" in html
    assert f'id="run-{mine.pk}"' in html and f'id="run-{theirs.pk}"' in html
    assert f'id="run-{elsewhere.pk}"' not in html
    assert f'href="{reverse("console:agent", args=[agent.pk])}"' in html_of(
        console_client("staff"), "agents"
    )
    # A project Admin sees the agent (it serves their group) but only their project's runs.
    admin_html = console_client("admin").get(url).content.decode()
    assert f'id="run-{mine.pk}"' in admin_html and f'id="run-{theirs.pk}"' not in admin_html
    # An agent serving none of their groups is a 404 for them.
    far = Agent.objects.create(name="w9@host", queues=["eu"], last_heartbeat=timezone.now())
    assert console_client("admin").get(reverse("console:agent", args=[far.pk])).status_code == 404


def test_agent_page_shows_its_recent_log_to_staff_newest_last(console_client, project):
    from designer.console.models import AgentGroup

    AgentGroup.objects.create(name="eu")
    project.agent_group = "eu"
    project.save(update_fields=["agent_group"])
    agent = Agent.objects.create(
        name="w1@host",
        queues=["eu"],
        last_heartbeat=timezone.now(),
        recent_log=["10:00:01 INFO first line", "10:00:02 WARNING <b>second</b> line"],
    )
    url = reverse("console:agent", args=[agent.pk])
    html = console_client("staff").get(url).content.decode()
    log = re.search(r'<pre class="agent-log" id="agent-log">(.*?)</pre>', html, re.S)
    assert log is not None
    assert log[1].index("first line") < log[1].index("second")  # newest last
    assert "&lt;b&gt;second&lt;/b&gt;" in log[1]  # text, escaped
    # A project Admin sees the agent but not its log: it covers every project it runs.
    admin_html = console_client("admin").get(url).content.decode()
    assert "first line" not in admin_html and "shown to staff only" in admin_html
    # No lines yet: the empty state.
    Agent.objects.filter(pk=agent.pk).update(recent_log=[])
    empty = console_client("staff").get(url).content.decode()
    assert 'id="agent-log"' not in empty and "No log lines from this agent yet." in empty
