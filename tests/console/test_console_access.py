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
WRITES = {"run_cancel"}


def page_routes(run_id: int = 999999) -> list[str]:
    return [
        re.sub(r"<int:\w+>", str(run_id), r) for r, p in console_routes() if p.name not in WRITES
    ]


def write_routes(run_id: int) -> list[str]:
    return [re.sub(r"<int:\w+>", str(run_id), r) for r, p in console_routes() if p.name in WRITES]


def test_console_urls_all_go_through_console_view():
    routes = console_routes()
    assert len(routes) >= 7
    assert [r for r, p in routes if not getattr(p.callback, "console_view", False)] == []


@pytest.mark.parametrize("persona", CONSOLE_PERSONAS)
def test_every_console_page_by_persona(console_client, persona, project, make_run):
    run = make_run(project)
    client = console_client(persona)
    for route in page_routes(run.pk):
        response = client.get("/" + route)
        expected = 200 if persona in CONSOLE_ALLOWED else 403
        assert response.status_code == expected, (persona, route, response.status_code)


def test_anonymous_is_sent_to_login(client, db):
    for route in page_routes() + write_routes(1):
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
