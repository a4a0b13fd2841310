"""Shared fixtures: the fixed personas and their project.

Personas (after healthchecks' alice/bob/charlie): ``admin``, ``editor``, ``operator`` and
``viewer`` are members of ``project`` with those roles; ``outsider`` is not a member.
``client_for(persona)`` gives a logged-in test client.
"""

from __future__ import annotations

import pytest
from django.test import Client

from designer.projects.models import Role
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytest_plugins: list[str] = [
    "tests.fixtures.sandbox",
    "tests.fixtures.browser",
]

PERSONAS = ("admin", "editor", "operator", "viewer", "outsider")
MEMBER_ROLES = {
    "admin": Role.ADMIN,
    "editor": Role.EDITOR,
    "operator": Role.OPERATOR,
    "viewer": Role.VIEWER,
}


# make test runs two xdist processes with --dist loadgroup. Tests that start processes of their
# own and time what they do (Celery workers, pacing across processes) form ONE group, run one
# after another in one xdist process, so two of them never starve each other of the machine's
# 2 CPUs. Every other test is grouped by its file, as --dist loadfile would: a module's
# fixtures start once and its tests keep their order.
SERIAL_GROUP = "processes"
SERIAL_MARKERS = ("worker", "real_pace")


def pytest_collection_modifyitems(items):
    for item in items:
        if any(item.get_closest_marker(name) for name in SERIAL_MARKERS):
            group = SERIAL_GROUP
        else:
            group = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def project(db):
    return ProjectFactory(name="Acme sync")


@pytest.fixture
def personas(project):
    users = {name: UserFactory(username=name) for name in PERSONAS}
    for name, role in MEMBER_ROLES.items():
        MembershipFactory(project=project, user=users[name], role=role)
    return users


@pytest.fixture
def client_for(personas):
    def make(persona: str) -> Client:
        client = Client()
        client.force_login(personas[persona])
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs seconds per persona; tests don't need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
