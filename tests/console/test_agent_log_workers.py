"""On a real Celery worker: the agent sends its recent log lines with its heartbeat, and the
console's agent page shows them after a run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from designer.runs.models import Agent, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import (  # noqa: F401  (fixtures)
    fake_connector,
    make_operation,
    new_queue,
    wait_final,
    wait_for,
    worker_env,
    workers,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("fake_connector")
def test_agent_row_and_page_get_the_workers_log_lines_after_a_run(workers, console_client, project):  # noqa: F811
    queue = new_queue()
    project.agent_group = queue
    project.save(update_fields=["agent_group"])
    worker = workers.start(queue)
    run = wait_final(
        run_start(operation=make_operation(project, count=3), trigger=RunTrigger.MANUAL),
        timeout=60,
    )
    assert run.status == RunStatus.SUCCESS

    def run_logged():
        # Celery's own "Task ... succeeded" line, sent by a heartbeat after the run.
        lines = Agent.objects.get(name=worker.name).recent_log
        return [line for line in lines if "succeeded" in line] or None

    (line, *_) = wait_for(run_logged, timeout=40, interval=0.3, what="the run in the agent log")
    assert " INFO " in line
    agent = Agent.objects.get(name=worker.name)
    html = console_client("staff").get(reverse("console:agent", args=[agent.pk])).content.decode()
    assert 'id="agent-log"' in html and "succeeded" in html
