"""Every console page and write action, tried by every persona (URLs found from the URLconf)."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, reverse

from designer.runs.models import OperationRun, RunStatus
from tests.console.conftest import CONSOLE_ALLOWED, CONSOLE_PERSONAS
from tests.fixtures.urls import walk


def console_routes() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in walk() if r.startswith("console/")]


# The console's write actions (POST only); every other console URL is a page.
STAFF_WRITES = {
    "group_create",
    "group_rename",
    "group_delete",
    "project_group",
    "user_create",
    "user_invite",
    "user_active",
    "user_staff",
    "user_password_reset",
    "invitation_resend",
    "invitation_revoke",
}
WRITES = {"run_cancel"} | STAFF_WRITES
# Pages only staff may open (project Admins get 403 too).
STAFF_PAGES = {"outbox"}
# Global endpoints (staff only; pages and writes on real rows, anonymous included) are swept
# by tests/console/test_global_endpoints.py, which checks it covers each of these routes.
GLOBAL_ENDPOINT_ROUTES = "global_endpoint"


def page_routes(run_id: int = 999999, agent_id: int | None = None) -> list[str]:
    def fill(match: re.Match) -> str:
        return str(agent_id if match.group(1) == "agent_id" and agent_id else run_id)

    return [
        re.sub(r"<int:(\w+)>", fill, r)
        for r, p in console_routes()
        if p.name not in WRITES and not p.name.startswith(GLOBAL_ENDPOINT_ROUTES)
    ]


def staff_page_routes() -> list[str]:
    return [r for r, p in console_routes() if p.name in STAFF_PAGES]


def write_routes(run_id: int) -> list[str]:
    return [
        re.sub(r"<int:\w+>", str(run_id), r)
        for r, p in console_routes()
        if p.name in WRITES - STAFF_WRITES
    ]


def test_console_urls_all_go_through_console_view():
    routes = console_routes()
    assert len(routes) >= 7
    assert [r for r, p in routes if not getattr(p.callback, "console_view", False)] == []


@pytest.mark.parametrize("persona", CONSOLE_PERSONAS)
def test_every_console_page_by_persona(console_client, persona, project, make_run):
    run = make_run(project)
    client = console_client(persona)
    from designer.runs.models import Agent

    agent = Agent.objects.create(name="a@h", queues=[project.agent_group])
    for route in page_routes(run.pk, agent.pk):
        response = client.get("/" + route)
        allowed = {"staff"} if route in staff_page_routes() else CONSOLE_ALLOWED
        expected = 200 if persona in allowed else 403
        assert response.status_code == expected, (persona, route, response.status_code)


def test_anonymous_is_sent_to_login(client, db):
    staff_writes = [
        re.sub(r"<int:\w+>", "1", r) for r, p in console_routes() if p.name in STAFF_WRITES
    ]
    for route in page_routes() + write_routes(1) + staff_writes:
        response = client.get("/" + route)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", CONSOLE_PERSONAS)
def test_every_console_write_action_by_persona(console_client, persona, project, make_run):
    run = make_run(project, status=RunStatus.PENDING)
    writes = write_routes(run.pk)
    assert writes, "the console has write actions"
    for route in writes:
        response = console_client(persona).post("/" + route)
        if persona in CONSOLE_ALLOWED:
            assert response.status_code == 302, (persona, route)
        else:
            assert response.status_code == 403, (persona, route)
    run.refresh_from_db()
    expected = RunStatus.CANCELED if persona in CONSOLE_ALLOWED else RunStatus.PENDING
    assert run.status == expected


def test_write_actions_refuse_get(console_client, project, make_run):
    run = make_run(project, status=RunStatus.PENDING)
    response = console_client("staff").get(reverse("console:run_cancel", args=[run.pk]))
    assert response.status_code == 405
    assert OperationRun.objects.get(pk=run.pk).status == RunStatus.PENDING


def test_console_link_shows_for_staff_and_admins_only(console_client, project):
    for persona in CONSOLE_PERSONAS:
        html = console_client(persona).get(reverse("projects:list")).content.decode()
        has_link = f'href="{reverse("console:index")}"' in html
        assert has_link == (persona in CONSOLE_ALLOWED), persona


def test_superuser_keeps_the_django_admin(db, client):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert b"Django admin" in client.get(reverse("console:index")).content


@pytest.mark.parametrize("persona", CONSOLE_PERSONAS)
def test_only_staff_may_administer_users_and_groups(
    console_client, persona, personas, project, smtp_server
):
    """Every staff write, by every persona, aimed at real rows: non-staff get 403 and change
    nothing; staff get through (a redirect, or 422 for a refused change)."""
    from designer.accounts.models import Invitation
    from designer.console.models import AgentGroup

    target = personas["viewer"]
    invitation = Invitation.objects.create(email="x@example.org", token_hash="h" * 64)
    old_group = AgentGroup.objects.create(name="sweep-old")
    ids = {
        "user_id": target.pk,
        "invitation_id": invitation.pk,
        "group_id": old_group.pk,
        "pk": project.pk,
    }
    data = {"username": "made", "email": "made@example.org", "password": "plum tree 42 lamp"}
    # group_create makes "sweep-new"; renaming "sweep-old" to it is refused (422), deleting
    # "sweep-old" works, and the project moves to "sweep-new".
    data |= {"value": "0", "name": "sweep-new", "agent_group": "sweep-new"}
    routes = [(r, p) for r, p in console_routes() if p.name in STAFF_WRITES]
    assert {p.name for _r, p in routes} == STAFF_WRITES
    client = console_client(persona)
    for route, pattern in routes:
        path = "/" + re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), route)
        sent = {"email": "invited@example.org"} if pattern.name == "user_invite" else data
        response = client.post(path, sent)
        if persona == "staff":
            assert response.status_code in (302, 422), (route, response.status_code)
        else:
            assert response.status_code == 403, (persona, route, response.status_code)
        assert client.get(path).status_code == (405 if persona == "staff" else 403)
    target.refresh_from_db()
    invitation.refresh_from_db()
    from django.contrib.auth import get_user_model

    changed = (
        not target.is_active,
        invitation.revoked_at is not None,
        get_user_model().objects.filter(username="made").exists(),
        Invitation.objects.filter(email="invited@example.org").exists(),
        AgentGroup.objects.filter(name="sweep-new").exists(),
        not AgentGroup.objects.filter(name="sweep-old").exists(),
        type(project).objects.get(pk=project.pk).agent_group == "sweep-new",
    )
    assert changed == ((True,) * 7 if persona == "staff" else (False,) * 7), (persona, changed)
