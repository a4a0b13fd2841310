"""Every URL of the app, by kind of visitor; cross-project ids; CSRF on every write.

tests/projects/test_access.py already tries every project URL with each persona (outsider
404, a member without the capability 403) and tests/console/test_console_access.py every
console URL; this file adds what they leave out:

* every URL of the URLconf belongs to a known family (project, console, public), so a view
  added outside them fails here until someone decides who may see it;
* an admin of one project using another project's object ids under their own project's URL
  gets 404 on every project URL that takes an object id (no insecure direct object reference);
* every URL refuses a POST without a CSRF token, and no view is csrf_exempt.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.fixtures.urls import walk
from tests.security.world import build_world, project_routes

PUBLIC = {
    "": "redirect to projects",
    "accounts/login/": "login",
    "accounts/logout/": "logout",
    "favicon.ico": "the site icon (a redirect into static/)",
    # designer.accounts: guarded by a single-use token in the URL (tests/accounts).
    "accounts/invitations/<str:token>/": "create the invited account",
    "accounts/password-reset/": "Forgot password? (Django's view)",
    "accounts/password-reset/sent/": "reset link sent",
    "accounts/password-reset/<uidb64>/<token>/": "choose a new password (Django's view)",
    "accounts/password-reset/done/": "password set",
}
SIGNED_IN = {
    "projects/": "own projects",
    "projects/import/": "import into a new project",
    "account/api-tokens/": "own API tokens",
    "account/api-tokens/<int:token_id>/revoke/": "revoke an own API token",
}
# The token API: Bearer tokens, no session cookie, so no login redirect and no CSRF (a
# browser's cookies give no access there). tests/api/test_access_sweep.py sweeps it with
# every persona and token scope, and checks that a session alone gets 401.
API = "api/v1/"


def test_every_url_belongs_to_a_guarded_family():
    unknown = []
    for route, pattern in walk():
        if route.startswith("admin/"):
            continue  # Django's admin: staff only, its own login
        if route.startswith(API):
            continue
        if "<int:project_id>" in route:
            assert hasattr(pattern.callback, "required_capability"), route
        elif route.startswith("console/"):
            assert getattr(pattern.callback, "console_view", None) or hasattr(
                pattern.callback, "__wrapped__"
            ), route
        elif route not in PUBLIC and route not in SIGNED_IN:
            unknown.append(route)
    assert unknown == [], f"URLs outside every guarded family: {unknown}"


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login_from_every_non_public_url():
    admin = UserFactory(username="owner")
    world = build_world(admin=admin)
    client = Client()
    for route, _pattern in walk():
        if route in PUBLIC or route.startswith(("admin/", API)):
            continue
        url = world.url(route)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].startswith("/accounts/login/"), (method, url)


def _snapshot(project) -> str:
    """Everything of one project, serialised: a write that reached it changes this."""
    from django.core import serializers

    from designer.design.models import Activity, Connection, Operation, Transformation
    from designer.projects.models import Membership, Project, Variable
    from designer.runs.models import OperationRun, Schedule

    rows = [
        *Project.objects.filter(pk=project.pk),
        *Membership.objects.filter(project=project),
        *Variable.objects.filter(project=project),
        *Connection.objects.filter(project=project),
        *Activity.objects.filter(connection__project=project),
        *Transformation.objects.filter(project=project),
        *Operation.objects.filter(project=project),
        *OperationRun.objects.filter(project=project),
        *Schedule.objects.filter(project=project),
    ]
    return serializers.serialize("json", rows)


# A body that would pass most forms, so a write reaching the wrong project would show.
FORM = {
    "name": "Hijacked",
    "role": "admin",
    "value": "hijacked",
    "cron": "* * * * *",
    "enabled": "on",
    "timeout_seconds": "60",
    "on_agent_lost": "error",
    "mapping": "[]",
}


@pytest.mark.django_db
def test_another_projects_ids_under_my_project_find_nothing():
    """I administer project A; B's connection, activity, run, variable ... ids put in A's
    URLs must find nothing: reads are 404 and writes change nothing of B."""
    me = UserFactory(username="me")
    mine = build_world(admin=me, name="Mine")
    theirs = build_world(admin=UserFactory(username="them"), name="Theirs")
    before = _snapshot(theirs.project)
    client = Client()
    client.force_login(me)
    checked = 0
    for route, _pattern in project_routes():
        if route.count("<int:") < 2:
            continue  # only the project id: nothing of another project to point at
        url = theirs.url(route, project_id=mine.project.pk)
        response = client.get(url)
        assert response.status_code in (404, 405), ("get", url, response.status_code)
        response = client.post(url, FORM)
        assert b"Theirs" not in response.content, ("post", url)
        if response.status_code not in (404, 405):
            # Refused before the lookup (a form error): fine as long as B is untouched.
            assert _snapshot(theirs.project) == before, ("post changed B", url)
        checked += 1
    assert checked >= 30
    assert _snapshot(theirs.project) == before


@pytest.mark.django_db
def test_my_own_ids_under_my_project_are_found(client):
    """The sweep above is only meaningful if the same URLs with my own ids do answer."""
    me = UserFactory(username="me")
    mine = build_world(admin=me, name="Mine")
    client.force_login(me)
    found = 0
    for route, _pattern in project_routes():
        if route.count("<int:") < 2 or route.endswith(("/delete/", "/remove/")):
            continue
        response = client.get(mine.url(route))
        if response.status_code in (200, 302):
            found += 1
    assert found >= 10


# Django's way to swap upload handlers: exempt the view, csrf_protect the part that reads
# the body. Checked for real below (403, and nothing left behind).
CSRF_CHECKED_INSIDE = {"projects/<int:project_id>/files/<int:connection_id>/upload/"}


@pytest.mark.django_db
def test_every_url_refuses_a_post_without_a_csrf_token():
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    world = build_world(admin=admin)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    refused = 0
    for route, pattern in walk():
        if route.startswith(API):
            continue
        if route not in CSRF_CHECKED_INSIDE:
            assert not getattr(pattern.callback, "csrf_exempt", False), f"{route} is csrf_exempt"
        if route.startswith("admin/") and "<" in route:
            continue
        response = client.post(world.url(route), {"name": "x"})
        assert response.status_code == 403 and b"CSRF" in response.content, (
            route,
            response.status_code,
        )
        refused += 1
    assert refused >= 70


@pytest.mark.django_db
def test_an_upload_without_a_csrf_token_is_refused_and_leaves_nothing(settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.FILES_ROOT = tmp_path / "files"
    admin = UserFactory(username="admin")
    world = build_world(admin=admin)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    client.get(world.url("projects/<int:project_id>/"))  # the victim's browser has a CSRF cookie
    assert "csrftoken" in client.cookies
    upload = SimpleUploadedFile("forged.csv", b"email\nforged@example.com\n", "text/csv")
    url = world.url("projects/<int:project_id>/files/<int:connection_id>/upload/")
    response = client.post(url, {"file": upload})
    assert response.status_code == 403 and b"CSRF" in response.content
    left = sorted(p.name for p in settings.FILES_ROOT.rglob("*") if p.is_file())
    assert left == [], f"a refused upload left files behind: {left}"


@pytest.mark.django_db
def test_writes_with_the_header_token_pass_csrf():
    """The positive side: the token htmx sends (X-CSRFToken from <body hx-headers>) works."""
    admin = UserFactory(username="admin")
    world = build_world(admin=admin)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    browser.get(world.url("projects/<int:project_id>/"))
    token = browser.cookies["csrftoken"].value
    url = world.url("projects/<int:project_id>/rename/")
    response = browser.post(url, {"name": "Renamed"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code != 403, response.content[:300]
    world.project.refresh_from_db()
    assert world.project.name == "Renamed"
