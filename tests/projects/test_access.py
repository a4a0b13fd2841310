"""Every project URL, tried by every persona: outsiders get 404, members without the right 403.

The URLs are discovered from the URLconf, so a view added later is covered without editing
this file; a project URL whose view does not go through ``project_view`` fails the test.
"""

from __future__ import annotations

import re

import pytest

from designer.projects.access import ROLE_CAPABILITIES, Capability
from tests.conftest import MEMBER_ROLES
from tests.fixtures.urls import walk

# Views that take a project id but are reached without a session-bound project (none yet).
EXEMPT: set[str] = set()


def project_urls() -> list[tuple[str, object]]:
    found = []
    for route, pattern in walk():
        if route.startswith("api/v1/"):
            continue  # the token API: tests/api/test_access_sweep.py, tokens instead of sessions
        if "<int:project_id>" in route and pattern.name not in EXEMPT:
            found.append((route, pattern.callback))
    return found


def concrete(route: str, project_id: int) -> str:
    path = route.replace("<int:project_id>", str(project_id))
    # Other ids point at nothing: access is decided before any other lookup.
    path = re.sub(r"<int:\w+>", "999999", path)
    path = re.sub(r"<(?:str|slug):\w+>", "x", path)
    path = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000000", path)
    return "/" + path.lstrip("^").rstrip("$")


def test_there_are_project_urls_and_all_declare_their_need():
    urls = project_urls()
    assert len(urls) >= 4
    undeclared = [route for route, view in urls if not hasattr(view, "required_capability")]
    assert undeclared == [], f"project views not behind project_view(): {undeclared}"


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_everywhere(client_for, project, method):
    client = client_for("outsider")
    for route, _view in project_urls():
        response = getattr(client, method)(concrete(route, project.pk))
        assert response.status_code == 404, (method, route, response.status_code)


@pytest.mark.parametrize("persona", sorted(MEMBER_ROLES))
def test_members_get_403_exactly_where_their_role_lacks_the_right(client_for, project, persona):
    client = client_for(persona)
    allowed = ROLE_CAPABILITIES[MEMBER_ROLES[persona]]
    for route, view in project_urls():
        need = Capability(view.required_capability)
        for method in ("get", "post"):
            response = getattr(client, method)(concrete(route, project.pk))
            if need in allowed:
                assert response.status_code != 403, (persona, method, route)
            else:
                assert response.status_code == 403, (persona, method, route)


def test_anonymous_is_sent_to_login(client, project):
    for route, _view in project_urls():
        response = client.get(concrete(route, project.pk))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
