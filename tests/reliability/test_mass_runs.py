"""1,000 runs queued at once through two worker processes: every run reaches a final status,
none runs twice, both workers take a share."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db.models import Count

from designer.runs.models import FINAL_STATUSES, OperationRun, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import make_operation, new_queue, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RUNS = 1000


@pytest.mark.timeout(600)
def test_a_thousand_runs_queued_at_once_through_two_workers(project, workers, tmp_path, settings):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    ledger = tmp_path / "ledger"
    operation = make_operation(project, count=1, ledger=ledger)
    pool = workers.start_many([queue, queue])

    # Each run brings its one record, as API triggers do: those may queue up (to
    # RUNS_MAX_PENDING_WITH_INPUT); Run clicks of one operation queue one at a time.
    settings.RUNS_MAX_PENDING_WITH_INPUT = RUNS
    record = [{"id": 0, "email": "r0@example.com", "name": "Record 0"}]
    began = time.monotonic()
    for _ in range(RUNS):
        run_start(operation=operation, trigger=RunTrigger.API_TRIGGER, records=record)
    queued = time.monotonic() - began

    def all_final():
        return (
            OperationRun.objects.filter(operation=operation, status__in=FINAL_STATUSES).count()
            == RUNS
        )

    wait_for(all_final, timeout=480, interval=0.5, what=f"{RUNS} runs to end")
    elapsed = time.monotonic() - began
    runs = OperationRun.objects.filter(operation=operation)
    statuses = Counter(runs.values_list("status", flat=True))
    assert statuses == {RunStatus.SUCCESS: RUNS}, statuses
    assert set(runs.values_list("attempts", flat=True)) == {1}  # claimed once each
    assert runs.filter(target_records=1, failed_records=0).count() == RUNS
    # The side effect: each run's one record was written once, so 1,000 lines, no more.
    assert len(ledger.read_text().splitlines()) == RUNS
    shares = dict(runs.values_list("agent_name").annotate(n=Count("pk")))
    assert set(shares) == {w.name for w in pool}, shares
    print(
        f"\n{RUNS} runs: queued in {queued:.1f} s, all final after {elapsed:.1f} s "
        f"({RUNS / elapsed:.1f} runs/s); per worker {sorted(shares.values())}"
    )
