"""SIGKILL of a worker mid-write, against the Constant Contact sandbox (issue 17.4).

Two workers on one queue, the operation set to re-queue on a lost agent. The worker writing
the batch is killed; the other one resumes the batch in flight with the run journal the dead
one kept. Afterwards the reported written count equals what the far side holds, with no
contact created twice and no record reported lost.
"""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from designer.design.models import AgentLostPolicy
from designer.runs.models import OperationRun, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.reliability.conftest import log_of
from tests.runs.conftest import wait_final, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _requeueing(operation, **target_config):
    operation.on_agent_lost = AgentLostPolicy.REQUEUE
    operation.save()
    if target_config:
        target = operation.target
        target.config = {**target.config, **target_config}
        target.save()
    return operation


def _kill_the_runs_worker(cc_operation, run: OperationRun):
    victim = next(w for w in cc_operation.state["workers"] if w.name == run.agent_name)
    victim.kill(signal.SIGKILL)
    return victim


def _far_side(sandbox, count: int) -> Counter:
    emails = {f"r{i}@example.com" for i in range(count)}
    return Counter(
        address
        for c in sandbox.contacts
        if (address := (c.get("email_address") or {}).get("address")) in emails
    )


def test_per_record_create_killed_mid_batch_reports_what_the_far_side_holds(
    cc_operation, cc_sandbox
):
    count = 40  # one batch, each create answered in 0.15 s: about 6 s
    cc_sandbox.configure(latency=0.15)  # the tests' workers pace calls 100x faster than CC's
    operation = _requeueing(cc_operation(count=count, page=count, workers_count=2))
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def mid_batch():
        run.refresh_from_db()
        return run.agent_name and 8 <= len(run.in_flight_done or []) < count - 10

    wait_for(mid_batch, timeout=90, interval=0.05, what="the batch half written")
    committed_before = run.target_records
    victim = _kill_the_runs_worker(cc_operation, run)
    wait_final(run, timeout=120)
    created = _far_side(cc_sandbox, count)
    print(
        f"\nper-record kill: {committed_before} committed at the kill, far side "
        f"{sum(created.values())}, reported {run.target_records}, attempts {run.attempts}"
    )
    assert run.status == RunStatus.SUCCESS, (run.message, log_of(run)[-6:])
    assert run.agent_name != victim.name and run.attempts == 2
    assert max(created.values()) == 1, "a contact was created twice"
    assert run.target_records == sum(created.values()) == count
    assert not run.failures.exists()


def test_bulk_import_killed_while_polling_resumes_the_same_import(cc_operation, cc_sandbox):
    count = 100
    cc_sandbox.configure(activity_seconds=8.0, activity_polls=0)  # polled for ~8 s
    operation = _requeueing(
        cc_operation(count=count, page=count, workers_count=2),
        mode="bulk",
        list_ids=[cc_sandbox.list_id("Newsletter")],
    )
    transformation = operation.transformation  # the import's own flat columns
    transformation.mapping = [
        {"target": "email", "kind": "path", "value": "email"},
        {"target": "first_name", "kind": "path", "value": "name"},
    ]
    transformation.save()
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def polling():
        run.refresh_from_db()
        return run.agent_name and any(
            key.startswith("bulk.activity:") for key in (run.in_flight_journal or {})
        )

    try:
        wait_for(polling, timeout=90, interval=0.05, what="the import to be started")
    except AssertionError:
        raise AssertionError((run.status, run.message, log_of(run)[-8:])) from None
    victim = _kill_the_runs_worker(cc_operation, run)
    wait_final(run, timeout=120)
    created = _far_side(cc_sandbox, count)
    imports = [r for r in cc_sandbox.api_requests() if r.method == "POST" and "import" in r.path]
    print(
        f"\nbulk kill: far side {sum(created.values())}, reported {run.target_records}, "
        f"imports started {len(imports)}, attempts {run.attempts}"
    )
    assert run.status == RunStatus.SUCCESS, (run.message, log_of(run)[-6:])
    assert run.agent_name != victim.name and run.attempts == 2
    assert len(imports) == 1, "the re-queued attempt started the import again"
    assert max(created.values()) == 1
    assert run.target_records == sum(created.values()) == count
    assert not run.failures.exists()
    assert any("resuming activity" in line for line in log_of(run))
