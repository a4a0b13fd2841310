"""Multi-step chains on real Celery workers (issue 11): a response path with a script and a
condition, and a worker killed mid-chain: every record done once or reported failed at its
step, no target written twice."""

from __future__ import annotations

import signal

import pytest

from designer.design import operations
from designer.design.models import AgentLostPolicy, Transformation
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.chains import add, chain, counts, ledger_counts, sink
from tests.runs.conftest import new_queue, wait_final, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_multi_step_chain_runs_on_a_worker_with_per_step_counts(project, shared_worker, tmp_path):
    project.agent_group = shared_worker.queue
    project.save()
    operation, steps = chain(project, tmp_path, count=40, batch=15, fail_every=7)
    script = add(operation, "script", position=2, config={"script": "skip if id >= 35"})
    response = add(operation, "transformation")
    Transformation.objects.filter(pk=response.transformation_id).update(
        mapping=[
            {"target": "email", "kind": "path", "value": "record.email"},
            {"target": "id", "kind": "path", "value": "record.id"},
            {"target": "ok", "kind": "path", "value": "ok"},
        ]
    )
    condition = add(operation, "condition", config={"expression": "ok"})
    written = add(
        operation,
        "target",
        activity=sink(project, tmp_path / "ok"),
        parent=condition,
        branch="true",
    )
    errors = add(
        operation,
        "target",
        activity=sink(project, tmp_path / "errors"),
        parent=condition,
        branch="false",
    )
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=60)
    assert run.status == RunStatus.WARNING, run.message
    failed = [i for i in range(35) if i % 7 == 0]  # 0, 7, 14, 21, 28
    assert (run.source_records, run.target_records, run.failed_records) == (40, 30, 5)
    assert counts(run, script) == (40, 35, 0)
    assert counts(run, steps["target"]) == (35, 30, 5)
    assert counts(run, written) == (30, 30, 0) and counts(run, errors) == (5, 5, 0)
    assert sorted(ledger_counts(tmp_path / "errors")) == sorted(f"r{i}@example.com" for i in failed)
    assert len(ledger_counts(tmp_path / "ok")) == 30
    assert {f.step_id for f in run.failures.all()} == {steps["target"].pk}


def test_a_worker_killed_mid_chain_leaves_every_record_done_once_or_failed_at_its_step(
    project, workers, tmp_path
):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    count = 120
    operation, steps = chain(
        project,
        tmp_path,
        count=count,
        page=60,
        batch=60,
        per_record=True,
        write_delay=0.01,
        on_agent_lost=AgentLostPolicy.REQUEUE,
    )
    operations.step_configure(step=steps["target"], user=None, config={"pass_on": "input"})
    second = add(
        operation,
        "target",
        activity=sink(project, tmp_path / "b", per_record=True, delay=0.05),
    )
    pool = workers.start_many([queue, queue])
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def mid_second_target():
        run.refresh_from_db()
        stage = run.in_flight_stage or {}
        return (
            run.agent_name
            and stage.get("step") == second.pk
            and 10 <= len(stage.get("outputs") or {}) < 45
        )

    wait_for(mid_second_target, timeout=60, interval=0.05, what="the second target half written")
    victim = next(w for w in pool if w.name == run.agent_name)
    victim.kill(signal.SIGKILL)
    wait_final(run, timeout=90)
    assert run.status == RunStatus.SUCCESS, run.message
    assert run.attempts == 2 and run.agent_name != victim.name
    first, last = ledger_counts(tmp_path / "a"), ledger_counts(tmp_path / "b")
    assert max(first.values()) == 1, "the first target wrote a record twice"
    assert max(last.values()) == 1, "the second target wrote a record twice"
    assert len(first) == len(last) == run.target_records == run.source_records == count
    assert not run.failures.exists()
    assert counts(run, steps["target"]) == (count, count, 0)
    assert counts(run, second) == (count, count, 0)
    assert run.log_lines.filter(
        message__startswith="Resuming the batch a lost agent left in flight at Target"
    ).exists()
