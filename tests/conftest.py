"""Shared fixtures: the fixed personas and their project.

Personas (after healthchecks' alice/bob/charlie): ``admin``, ``editor``, ``operator`` and
``viewer`` are members of ``project`` with those roles; ``outsider`` is not a member.
``client_for(persona)`` gives a logged-in test client.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from _pytest.nodeid import NodeId
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


# make test runs xdist processes with --dist loadgroup. Tests that start processes of their own
# and time what they do (Celery workers, pacing across processes) form SERIAL_GROUPS groups,
# each run one test after another in one xdist process: at most that many such tests at once,
# so they never starve each other of the machine's 2 CPUs. A file's serial tests stay in one
# group; files go to the group with fewer tests so far. Every other test is grouped by its
# file, as --dist loadfile would: a module's fixtures start once and its tests keep their order.
SERIAL_GROUP = "processes"
# Two by default; .ci/run's RabbitMQ pass, almost all worker tests, leaves two of its four
# processes idle with two groups and asks for three (PYTEST_SERIAL_GROUPS).
SERIAL_GROUPS = int(os.environ.get("PYTEST_SERIAL_GROUPS", "2"))
SERIAL_MARKERS = ("worker", "real_pace")
SERIAL_SECONDS = Path(__file__).resolve().parent / "serial_seconds.json"


def _serial(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in SERIAL_MARKERS)


def _seconds_per_test() -> dict[str, float]:
    """Measured seconds per test of each serial file (scripts/serial_seconds.py writes them)."""
    figures = json.loads(SERIAL_SECONDS.read_text()) if SERIAL_SECONDS.exists() else {}
    return {path: f["seconds"] / max(f["tests"], 1) for path, f in figures.items()}


def _groups(items: list[pytest.Item]) -> dict[str, str]:
    """Each selected test's group (a pure function of the items: the same in every process).

    Serial files go, longest first, to the group with the fewest seconds so far, on measured
    seconds per test times the tests selected (a file not measured yet counts the mean): by
    test count alone one group ran 30-35 s longer than the other in each CI pass."""
    per_file = Counter(item.nodeid.split("::", 1)[0] for item in items if _serial(item))
    measured = _seconds_per_test()
    mean = sum(measured.values()) / len(measured) if measured else 1.0
    weights = {path: count * measured.get(path, mean) for path, count in per_file.items()}
    loads = [0.0] * SERIAL_GROUPS
    serial_group: dict[str, str] = {}
    for path, weight in sorted(weights.items(), key=lambda pair: (-pair[1], pair[0])):
        index = loads.index(min(loads))
        loads[index] += weight
        serial_group[path] = f"{SERIAL_GROUP}-{index + 1}"
    return {
        item.nodeid: serial_group[path] if _serial(item) else path
        for item in items
        for path in [item.nodeid.split("::", 1)[0]]
    }


# tryfirst: before xdist's own hook sends the ids to the scheduler.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Give each test its group as xdist's loadgroup scheduler reads it: a ``@group`` suffix
    on the node id. Done here, on the tests left after -m/-k, so the serial groups are balanced
    on what really runs (pass 3's deselected browser and slow tests counted before). Not with
    xdist_group marks: xdist 3.8 rewrites ``item._nodeid``, which pytest 9.2 no longer reads
    (its ids are structured, ``item._id``), so the groups were silently lost and every test
    was scheduled alone, worker tests two at a time at random (pytest-dev/pytest-xdist#1386)."""
    if not getattr(session.config.option, "loadgroup", False):
        return  # not an xdist process of --dist loadgroup
    groups = _groups(session.items)
    for item in session.items:
        grouped = f"{item.nodeid}@{groups[item.nodeid]}"
        if hasattr(item, "_id"):
            item._id = NodeId.parse(grouped)
        else:  # pytest before 9.2
            item._nodeid = grouped


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
