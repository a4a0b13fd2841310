"""Cancel is checked between the steps of a chain, not only between batches: a Cancel pressed
while a long step works stops the batch before the next step starts, and the records that
didn't get through are reported (failed at the step they didn't enter, re-runnable from
there), never silently dropped. On a real worker."""

from __future__ import annotations

import pytest

from designer.design.models import Step
from designer.runs.models import OperationRun, RunStatus, RunTrigger
from designer.runs.services import run_rerun_failed, run_start
from tests.runs.chains import add, chain, ledger_counts, sink
from tests.runs.conftest import wait_final, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_cancel_during_a_step_stops_before_the_next_step(
    project, shared_worker, client_for, tmp_path
):
    project.agent_group = shared_worker.queue
    project.save()
    # source -> transformation -> target A (one record at a time, 0.2 s each) -> target B,
    # one batch of 20: A takes about 4 seconds.
    operation, steps = chain(
        project, tmp_path, count=20, batch=20, per_record=True, write_delay=0.2
    )
    first = steps["target"]
    Step.objects.filter(pk=first.pk).update(config={**first.config, "pass_on": "input"})
    second = add(operation, "target", activity=sink(project, tmp_path / "b"))
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    wait_for(lambda: len(ledger_counts(tmp_path / "a")) >= 3, what="target A to be writing")
    cancel = client_for("operator").post(
        f"/projects/{project.pk}/runs/{run.pk}/cancel/", HTTP_HX_REQUEST="true"
    )
    assert cancel.status_code == 200
    wait_final(run)

    assert run.status == RunStatus.CANCELED, run.message
    assert len(ledger_counts(tmp_path / "a")) == 20  # A finished the step it was in
    assert ledger_counts(tmp_path / "b") == {}  # B never started
    # Every record of the batch is accounted for: read, and reported at B.
    assert (run.source_records, run.target_records, run.failed_records) == (20, 0, 20)
    failures = list(run.failures.all())
    assert {(f.step_id, f.error_key) for f in failures} == {(second.pk, "canceled")}
    assert sorted(f.index for f in failures) == list(range(20))
    assert failures[0].error_message == "Not processed: the run was canceled before this step."
    assert failures[0].step_input["email"] == "r0@example.com"
    assert run.log_lines.filter(message__contains="canceled before").exists()

    # Re-running them re-enters at B: A is not written twice, B gets every record.
    rerun = wait_final(run_rerun_failed(run=run, user=None))
    assert rerun.status == RunStatus.SUCCESS, rerun.message
    assert set(ledger_counts(tmp_path / "a").values()) == {1}
    assert sorted(ledger_counts(tmp_path / "b")) == sorted(f"r{i}@example.com" for i in range(20))
    assert OperationRun.objects.filter(operation=operation).count() == 2
