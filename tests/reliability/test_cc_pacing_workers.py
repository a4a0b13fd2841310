"""Issue 17.5 end to end: runs on one Constant Contact API key in several Celery worker
processes (embedded set-up: no Redis, the workers share only the state folder) never break
the limit as a strict server counts it: at most 4 calls in any sliding second, 0 x 429."""

from __future__ import annotations

import pytest

from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory
from tests.fixtures.sandbox import CC_CLIENT_ID, cc_connection
from tests.reliability.conftest import log_of
from tests.runs.conftest import new_queue, wait_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

RUNS, CONTACTS, PAGE = 4, 18, 2  # 4 runs x 9 pages = 36 calls on one key: about 9 s


def test_runs_on_one_key_in_four_worker_processes_keep_to_4_in_any_second(
    project,
    workers,
    fake_connector,
    cc_sandbox,
    cc_tokens,
    tmp_path,
) -> None:
    cc_sandbox.configure(rate_limit=4, sliding_window=True)
    cc_sandbox.seed_contacts(CONTACTS)
    queue = new_queue()
    project.agent_group = queue
    project.save()
    cc = cc_connection(project, cc_sandbox, cc_tokens)
    sink = ConnectionFactory(project=project, connector_key="fake", config={})
    operations = [
        OperationFactory(
            project=project,
            name=f"Read contacts {n}",
            source=ActivityFactory(
                connection=cc, activity_type="query", config={"page_size": PAGE}
            ),
            target=ActivityFactory(connection=sink, activity_type="sink", config={}),
        )
        for n in range(RUNS)
    ]
    env = {
        "CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url,
        "CONNECTOR_STATE_DIR": str(tmp_path),  # the embedded default's shared folder
        "CONNECTOR_RATE_LIMIT_SPEEDUP": "1",  # the real pace (the tests' workers go faster)
    }
    workers.start_many([queue] * RUNS, extra_env=env)  # 4 processes, one run each
    runs = [run_start(operation=op, trigger=RunTrigger.MANUAL) for op in operations]
    for run in runs:
        wait_final(run, timeout=120)
        assert run.status == RunStatus.SUCCESS, (run.message, log_of(run)[-5:])
        assert run.source_records == CONTACTS
    measured = cc_sandbox.rate_measured()["keys"][CC_CLIENT_ID]
    assert measured["calls"] == RUNS * CONTACTS // PAGE  # the count came with page one
    assert measured["http_429"] == 0, measured
    assert measured["max_in_any_second"] <= 4, measured
