"""A batch left in flight by a lost agent (issue 17.4, engine side), in this process.

The dead attempt is staged on the run row as a killed worker leaves it: the batch's source
records, the offsets whose results were committed, and the target's journal. The reaper
re-queues it and the engine resumes: only records without a committed result go back to the
target, with ``resuming`` and the same journal. Real workers killed mid-batch are in
tests/runs/test_workers.py and tests/reliability/test_kill_mid_batch.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from designer.design.models import AgentLostPolicy
from designer.runs import engine
from designer.runs.ledger import DbJournal, Lost, RunLedger
from designer.runs.models import OperationRun, RecordFailure, RunStatus, RunTrigger
from designer.runs.services import agent_heartbeat, run_claim, run_start, runs_reap_lost
from tests.runs.conftest import AGENT_LOST_SECONDS, make_operation
from tests.runs.fake_connector import Sink

pytestmark = pytest.mark.django_db


def staged(project, tmp_path, *, policy=AgentLostPolicy.REQUEUE, **kwargs):
    """A run killed while writing records 11-20 of 30: 11-13 have committed results (12
    failed), 14 and 15 reached the far side without a committed result."""
    ledger = tmp_path / "ledger"
    ledger.write_text("".join(f"r{i}@example.com\n" for i in [*range(10), 10, 11, 13, 14]))
    operation = make_operation(
        project, count=30, batch=10, ledger=ledger, on_agent_lost=policy, **kwargs
    )
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    agent_heartbeat(name="dead@host", queues=["default"])
    assert run_claim(run_id=run.pk, agent_name="dead@host")
    OperationRun.objects.filter(pk=run.pk).update(
        source_records=10,
        target_records=12,  # 10 from the first batch, offsets 0 and 1 of the second
        failed_records=1,
        total_expected=30,
        in_flight_records=[
            {"key": f"r{i}@example.com", "record": {"id": i, "email": f"r{i}@example.com"}}
            for i in range(10, 20)
        ],
        in_flight_done=[0, 1, 2],
        in_flight_journal={"first_sent": 1234.5},
        heartbeat_at=timezone.now() - timedelta(seconds=AGENT_LOST_SECONDS + 1),
    )
    RecordFailure.objects.create(run=run, index=12, key="r12@example.com", error_key="conflict")
    return run, ledger


def test_a_requeued_run_resumes_its_batch_in_flight_without_writing_twice(project, tmp_path):
    run, ledger = staged(project, tmp_path)
    assert runs_reap_lost() == [run.pk]
    run = engine.execute(run_id=run.pk, agent_name="next@host")
    assert run.status == RunStatus.WARNING, run.message
    assert (run.source_records, run.target_records, run.failed_records) == (30, 29, 1)
    lines = ledger.read_text().splitlines()
    assert len(lines) == len(set(lines)) == 29  # 0 duplicates; r12 was the failure
    resumed = run.log_lines.get(message__startswith="Resuming 7 records")
    assert "journal first_sent=1234.5, 2 found written" in resumed.message
    assert not run.failures.filter(error_key="agent_lost").exists()
    assert run.in_flight_records is None and run.in_flight_journal is None


def test_a_run_ended_for_a_lost_agent_reports_only_records_without_a_result(project, tmp_path):
    run, _ = staged(project, tmp_path, policy=AgentLostPolicy.ERROR)
    assert runs_reap_lost() == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    lost = list(run.failures.filter(error_key="agent_lost").values_list("index", flat=True))
    assert lost == list(range(13, 20))
    assert (run.source_records, run.target_records, run.failed_records) == (20, 12, 8)


def test_per_record_results_are_committed_while_the_batch_is_written(
    project, tmp_path, monkeypatch
):
    """A per-record target's results reach the run row before its batch ends."""
    seen: list[tuple[int, int]] = []
    operation = make_operation(
        project, count=6, batch=6, per_record=True, write_delay=0.3, ledger=tmp_path / "l"
    )
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    write = Sink.write

    def spying(self, context, config, batch):
        def on_result(index, result, inner=context.on_result):
            inner(index, result)
            row = OperationRun.objects.get(pk=run.pk)
            seen.append((row.target_records, len(row.in_flight_done or [])))

        context.on_result = on_result
        return write(self, context, config, batch)

    monkeypatch.setattr(Sink, "write", spying)
    monkeypatch.setattr(engine, "PROGRESS_SECONDS", 0.5)
    run = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert run.target_records == 6
    assert any(0 < written < 6 for written, _ in seen), seen  # moved mid-batch
    assert all(written == done for written, done in seen)  # counters and offsets together


def test_the_journal_is_committed_by_put_and_owned(project):
    run = run_start(operation=make_operation(project), trigger=RunTrigger.MANUAL)
    assert run_claim(run_id=run.pk, agent_name="w@host")
    run.refresh_from_db()
    journal = DbJournal(RunLedger(run))
    journal.put("import_activity_id", "act-1")
    assert journal.get("import_activity_id") == "act-1"
    assert OperationRun.objects.get(pk=run.pk).in_flight_journal == {"import_activity_id": "act-1"}
    OperationRun.objects.filter(pk=run.pk).update(status=RunStatus.PENDING)  # taken away
    with pytest.raises(Lost):
        journal.put("import_activity_id", "act-2")
    assert journal.get("import_activity_id") == "act-1"


def test_a_run_taken_away_while_its_target_writes_stops_quietly(project, monkeypatch):
    """The reaper re-queued the run while this worker was still in write(): the journal's
    put() finds the run gone, and this worker stops without writing anything more to it."""
    run = run_start(operation=make_operation(project, count=5), trigger=RunTrigger.MANUAL)

    def taken_away(self, context, config, batch):
        OperationRun.objects.filter(pk=run.pk).update(status=RunStatus.PENDING, agent=None)
        context.journal.put("import_activity_id", "act-9")
        raise AssertionError("put() should have raised")

    monkeypatch.setattr(Sink, "write", taken_away)
    run = engine.execute(run_id=run.pk, agent_name="slow@host")
    assert run.status == RunStatus.PENDING and run.message == ""
    assert not run.failures.exists() and run.target_records == 0
    assert not run.log_lines.filter(message__contains="Internal error").exists()
