"""Console personas: the project personas plus ``staff`` (a staff user in no project)."""

from __future__ import annotations

import pytest
from django.test import Client

from designer.runs.models import OperationRun, RunStatus
from tests.factories import OperationFactory, UserFactory

CONSOLE_PERSONAS = ("admin", "editor", "operator", "viewer", "outsider", "staff")
# Who may use the console on ``project``: staff (everything) and the project's Admin.
CONSOLE_ALLOWED = {"admin", "staff"}


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True)


@pytest.fixture
def console_client(personas, staff):
    def make(persona: str) -> Client:
        client = Client()
        client.force_login(staff if persona == "staff" else personas[persona])
        return client

    return make


@pytest.fixture
def make_run():
    def make(project, status=RunStatus.SUCCESS, operation=None, **fields):
        operation = operation or OperationFactory(project=project)
        return OperationRun.objects.create(
            project=project,
            operation=operation,
            status=status,
            trigger="manual",
            queue=project.agent_group,
            **fields,
        )

    return make


from tests.accounts.smtp import smtp_server  # noqa: E402, F401  (fixture)
