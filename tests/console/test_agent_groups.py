"""Agent groups in the console: create, rename (projects and schedules follow), delete
(refused while projects use it, naming them), and moving a project from the console or from
its Settings."""

from __future__ import annotations

from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from designer.audit.models import AuditEntry
from designer.console.models import AgentGroup
from designer.projects.models import Project
from designer.runs.models import RunStatus
from designer.runs.schedules import schedule_save
from tests.factories import OperationFactory, ProjectFactory


def page(response) -> str:
    return response.content.decode()


def test_create_group_checks_the_name(console_client):
    staff = console_client("staff")
    bad = staff.post(reverse("console:group_create"), {"name": "night jobs!"})
    assert bad.status_code == 422 and "it is a queue name" in page(bad)
    ok = staff.post(reverse("console:group_create"), {"name": "night", "description": "Batch"})
    assert ok.status_code == 302 and ok["Location"] == "/console/agents/#group-night"
    again = staff.post(reverse("console:group_create"), {"name": "NIGHT"})
    assert again.status_code == 422 and "already exists" in page(again)
    assert AuditEntry.objects.filter(
        action="create", component_kind="agent group", component_name="night"
    ).exists()
    html = page(staff.get(reverse("console:agents")))
    assert 'id="group-night"' in html and "Batch" in html
    assert "celery -A designer worker -Q night --hostname night-agent@%h" in html


def test_rename_moves_projects_and_their_schedules(console_client, project):
    group = AgentGroup.objects.create(name="eu")
    Project.objects.filter(pk=project.pk).update(agent_group="eu")
    project.refresh_from_db()
    schedule = schedule_save(operation=OperationFactory(project=project), cron="0 6 * * *")
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).queue == "eu"
    staff = console_client("staff")
    response = staff.post(reverse("console:group_rename", args=[group.pk]), {"name": "eu-west"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.agent_group == "eu-west"
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).queue == "eu-west"
    entry = AuditEntry.objects.get(action="update", component_kind="agent group")
    assert entry.before == {"name": "eu"} and entry.after == {"name": "eu-west"}


def test_rename_is_refused_while_runs_wait_in_the_queue(console_client, project, make_run):
    group = AgentGroup.objects.create(name="eu")
    Project.objects.filter(pk=project.pk).update(agent_group="eu")
    project.refresh_from_db()
    make_run(project, status=RunStatus.PENDING)
    response = console_client("staff").post(
        reverse("console:group_rename", args=[group.pk]), {"name": "eu-west"}
    )
    assert response.status_code == 422
    assert "1 run is pending or running in “eu”" in page(response)
    group.refresh_from_db()
    assert group.name == "eu"


def test_delete_is_refused_while_projects_use_it_naming_them(console_client, project):
    group = AgentGroup.objects.create(name="eu")
    ProjectFactory(name="Billing", agent_group="eu")
    ProjectFactory(name="Archive", agent_group="eu")
    staff = console_client("staff")
    refused = staff.post(reverse("console:group_delete", args=[group.pk]))
    assert refused.status_code == 422
    assert "2 projects use it (“Archive”, “Billing”)" in page(refused)
    assert AgentGroup.objects.filter(pk=group.pk).exists()
    Project.objects.filter(agent_group="eu").update(agent_group="default")
    assert staff.post(reverse("console:group_delete", args=[group.pk])).status_code == 302
    assert not AgentGroup.objects.filter(pk=group.pk).exists()
    assert AuditEntry.objects.filter(action="delete", component_name="eu").exists()


def test_default_group_is_kept(console_client):
    group, _ = AgentGroup.objects.get_or_create(name="default")
    staff = console_client("staff")
    for url, data in (
        (reverse("console:group_delete", args=[group.pk]), {}),
        (reverse("console:group_rename", args=[group.pk]), {"name": "main"}),
    ):
        response = staff.post(url, data)
        assert response.status_code == 422 and "default group of new projects" in page(response)
    assert AgentGroup.objects.filter(name="default").exists()


def test_staff_moves_a_project_from_the_console(console_client, project):
    AgentGroup.objects.create(name="eu")
    staff = console_client("staff")
    html = page(staff.get(reverse("console:projects")))
    assert f'aria-label="Agent group of {project.name}"' in html and '<option value="eu">' in html
    response = staff.post(
        reverse("console:project_group", args=[project.pk]), {"agent_group": "eu"}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.agent_group == "eu"
    entry = AuditEntry.objects.get(project=project, action="update", component_kind="project")
    assert entry.before == {"agent_group": "default"} and entry.after == {"agent_group": "eu"}
    # A project Admin's console shows the group, without the form.
    assert "Agent group of" not in page(console_client("admin").get(reverse("console:projects")))


def test_project_admin_picks_the_group_in_settings(client_for, project):
    AgentGroup.objects.create(name="eu")
    admin = client_for("admin")
    settings_html = page(admin.get(reverse("projects:settings", args=[project.pk])))
    assert 'id="agent-group"' in settings_html and '<option value="eu">' in settings_html
    url = reverse("project_console:project_agent_group", args=[project.pk])
    unknown = admin.post(url, {"agent_group": "mars"}, follow=True)
    assert "No agent group “mars”" in page(unknown)
    project.refresh_from_db()
    assert project.agent_group == "default"
    admin.post(url, {"agent_group": "eu"})
    project.refresh_from_db()
    assert project.agent_group == "eu"
    assert client_for("editor").post(url, {"agent_group": "default"}).status_code == 403
    viewer_html = page(client_for("viewer").get(reverse("projects:settings", args=[project.pk])))
    assert 'id="agent-group"' not in viewer_html
