"""Issue 17.8 at run time: a worker process refuses a hostile expression per record, with the
message, and the run ends (Success with Warning) instead of stalling the agent."""

from __future__ import annotations

import pytest

from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import (  # noqa: F401
    fake_connector,
    make_operation,
    new_queue,
    wait_final,
    worker_env,
    workers,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_refuses_hostile_expressions_record_by_record(project, workers):  # noqa: F811
    queue = new_queue()
    project.agent_group = queue
    project.save()
    workers.start(queue)
    hostile = "((9**1000)**1000)**1000 if id % 2 else (['a'*100000]*100000)|join"
    operation = make_operation(
        project,
        count=6,
        mapping=[
            {"target": "n", "kind": "path", "value": "id"},
            {"target": "bad", "kind": "expression", "value": hostile},
        ],
    )
    done = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=60)
    assert done.status in (RunStatus.WARNING, RunStatus.ERROR), done.message
    failures = list(done.failures.values_list("error_message", flat=True))
    assert len(failures) == 6, failures
    assert all("bad: not allowed: the" in message for message in failures), failures
    assert any("number would be too large" in message for message in failures), failures
    assert any("result would be too large" in message for message in failures), failures
