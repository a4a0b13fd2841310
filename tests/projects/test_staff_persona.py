"""``staff`` has the console, not the projects: every project URL answers 404 to a staff user
who is not a member (as to any outsider)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.projects.test_access import concrete, project_urls


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_outside_the_project_gets_404_on_project_urls(project, method):
    client = Client()
    client.force_login(UserFactory(username="staff", is_staff=True))
    for route, _view in project_urls():
        response = getattr(client, method)(concrete(route, project.pk))
        assert response.status_code == 404, (method, route, response.status_code)
