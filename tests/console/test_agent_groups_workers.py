"""On real Celery workers: a project assigned to an agent group runs only on that group's
agent, and moving it (console or Settings) moves its next runs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from designer.console.models import AgentGroup
from designer.design.models import Operation
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import (  # noqa: F401  (fixtures)
    fake_connector,
    make_operation,
    new_queue,
    wait_final,
    worker_env,
    workers,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def run_several(operation_id: int, n: int) -> list:
    # Fresh from the database, as a request would load it: the project's group as stored.
    operation = Operation.objects.select_related("project").get(pk=operation_id)
    # One after the other: a Run click finds at most one run of an operation waiting.
    return [
        wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=60)
        for _ in range(n)
    ]


@pytest.mark.usefixtures("fake_connector")
def test_a_project_runs_only_on_its_groups_agent(workers, console_client, client_for, project):  # noqa: F811
    first, second = new_queue(), new_queue()
    for name in (first, second):
        AgentGroup.objects.create(name=name)
    agent_first, agent_second = workers.start_many([first, second])
    operation = make_operation(project, count=5)

    moved = console_client("staff").post(
        reverse("console:project_group", args=[project.pk]), {"agent_group": second}
    )
    assert moved.status_code == 302
    runs = run_several(operation.pk, 4)
    assert [r.status for r in runs] == [RunStatus.SUCCESS] * 4
    assert {r.agent_name for r in runs} == {agent_second.name}
    assert {r.queue for r in runs} == {second}

    # Its Admin moves it back from the project's Settings: the next runs follow.
    client_for("admin").post(
        reverse("project_console:project_agent_group", args=[project.pk]), {"agent_group": first}
    )
    runs = run_several(operation.pk, 3)
    assert [r.status for r in runs] == [RunStatus.SUCCESS] * 3
    assert {r.agent_name for r in runs} == {agent_first.name}
