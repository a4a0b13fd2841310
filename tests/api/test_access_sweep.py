"""Every API URL, read from the OpenAPI document, with every persona and every token scope.

Like tests/projects/test_access.py for the pages: outsiders get 404, members whose role lacks
the capability the call documents (``x-required-capability``) get 403, the others get an
answer. A token without the scope a call documents (``x-required-scope``) gets 403 whoever
holds it; a session cookie alone gets 401. New endpoints are covered without editing this.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from designer.design.models import Operation
from designer.projects.access import ROLE_CAPABILITIES, Capability
from designer.projects.models import Role
from tests.api.conftest import ApiClient
from tests.conftest import MEMBER_ROLES
from tests.factories import MembershipFactory
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

NOT_PROJECT = {"/api/v1/projects", "/api/v1/hooks/{key}/"}


def operations(client) -> list[tuple[str, str, dict]]:
    doc = client.get("/api/v1/openapi.json").json()
    found = []
    for path, methods in doc["paths"].items():
        for method, spec in methods.items():
            found.append((path, method, spec))
    return found


def _build(**kwargs):
    world = build_world(**kwargs)
    operation = Operation.objects.get(pk=world.ids["operation_id"])
    world.ids.setdefault("workflow_id", operation.workflow_id)
    return world


@pytest.fixture
def world(personas):
    world = _build(admin=personas["admin"], name="Swept")
    for persona in ("editor", "operator", "viewer"):
        MembershipFactory(project=world.project, user=personas[persona], role=MEMBER_ROLES[persona])
    return world


def concrete(world, path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(world.ids.get(m.group(1), world.project.pk)), path)


def project_operations(client):
    return [(p, m, s) for p, m, s in operations(client) if p not in NOT_PROJECT]


def test_every_project_call_documents_its_scope_and_capability(client):
    ops = project_operations(client)
    assert len(ops) >= 17
    for path, method, spec in ops:
        assert spec.get("x-required-scope") == ("read" if method == "get" else "run"), path
        assert Capability(spec["x-required-capability"]), path
        assert spec.get("security"), f"{method} {path} has no authentication"


@pytest.mark.parametrize("persona", [*sorted(MEMBER_ROLES), "outsider"])
def test_personas_get_what_their_role_allows(client, world, token_for, persona):
    api = ApiClient(token_for(persona))
    allowed = ROLE_CAPABILITIES.get(MEMBER_ROLES.get(persona, ""), frozenset())
    checked = 0
    for path, method, spec in project_operations(client):
        need = Capability(spec["x-required-capability"])
        url = concrete(world, path)
        response = getattr(api, method)(url)
        where = (persona, method, url, response.status_code, response.content[:200])
        if persona == "outsider":
            assert response.status_code == 404, where
            assert response["Content-Type"] == "application/problem+json", where
        elif need in allowed:
            assert response.status_code in (200, 202, 409), where
        else:
            assert response.status_code == 403, where
            assert "role" in response.json()["detail"].lower(), where
        checked += 1
    assert checked >= 14


@pytest.mark.parametrize("scope", ["read", "run"])
def test_a_token_lacking_the_scope_is_refused_everywhere(client, world, token_for, scope):
    api = ApiClient(token_for("admin", scopes=(scope,)))
    for path, method, spec in project_operations(client):
        url = concrete(world, path)
        response = getattr(api, method)(url)
        if spec["x-required-scope"] == scope:
            assert response.status_code in (200, 202, 409), (scope, method, url)
        else:
            assert response.status_code == 403, (scope, method, url, response.status_code)
            assert "scope" in response.json()["detail"], (scope, method, url)


def test_a_session_cookie_alone_opens_nothing(client, world, personas):
    """Why the API needs no CSRF token: a browser's session gives no access."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["admin"])
    for path, method, _spec in operations(client):
        if path == "/api/v1/hooks/{key}/":
            continue
        url = concrete(world, path)
        response = getattr(browser, method)(url)
        assert response.status_code == 401, (method, url, response.status_code)


def test_another_projects_ids_under_my_project_find_nothing(client, personas, token_for):
    mine = _build(admin=personas["admin"], name="Mine")
    theirs = _build(admin=personas["outsider"], name="Theirs")
    api = ApiClient(token_for("admin"))
    checked = 0
    for path, method, _spec in project_operations(client):
        if path.count("{") < 2:
            continue
        url = re.sub(
            r"\{(\w+)\}",
            lambda m: str(
                mine.project.pk if m.group(1) == "project_id" else theirs.ids[m.group(1)]
            ),
            path,
        )
        response = getattr(api, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
        checked += 1
    assert checked >= 10


def test_viewer_role_in_one_project_and_admin_in_another(client, personas, token_for):
    """Roles are per project: the same token is admin here and viewer there."""
    here = build_world(admin=personas["editor"], name="Here")
    there = build_world(admin=personas["admin"], name="There")
    MembershipFactory(project=there.project, user=personas["editor"], role=Role.VIEWER)
    api = ApiClient(token_for("editor"))
    url = "/api/v1/projects/{}/operations/{}/runs"
    assert api.post(url.format(here.project.pk, here.ids["operation_id"])).status_code == 202
    assert api.post(url.format(there.project.pk, there.ids["operation_id"])).status_code == 403
