"""The run ledger's log buffer: the run page sees lines within a second (issue 16.2)."""

from __future__ import annotations

import pytest

from designer.runs.ledger import RunLedger
from designer.runs.models import OperationRun, RunLogLine, RunTrigger
from designer.runs.services import run_claim, run_start
from tests.runs.conftest import make_operation

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stored(run: OperationRun) -> list[str]:
    return list(
        RunLogLine.objects.filter(run=run, message__startswith="line").values_list(
            "message", flat=True
        )
    )


def test_a_line_after_a_quiet_second_is_stored_at_once_a_burst_once_a_second(project):
    clock = Clock()
    run = run_start(operation=make_operation(project), trigger=RunTrigger.MANUAL)
    assert run_claim(run_id=run.pk, agent_name="w@host")
    run.refresh_from_db()
    ledger = RunLedger(run, clock=clock)
    ledger.log("info", "line 1")
    assert stored(run) == ["line 1"]  # alone: at once
    clock.now += 0.2
    ledger.log("info", "line 2")
    ledger.log("info", "line 3")
    assert stored(run) == ["line 1"]  # a burst waits ...
    clock.now += 1.0
    ledger.flush_logs_if_due()  # ... for the next call after a second (is_cancelled, a log)
    assert stored(run) == ["line 1", "line 2", "line 3"]
