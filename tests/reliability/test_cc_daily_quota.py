"""Issue 17.7 end to end: a run that would exceed the daily quota stops cleanly, before
the call past it, with a clear message and exact counts (a real worker process, the sandbox
over HTTP, the quota counted in the worker's state folder)."""

from __future__ import annotations

import pytest

from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.reliability.conftest import account_for, log_of
from tests.runs.conftest import wait_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_run_stops_at_the_daily_quota_and_says_so(cc_operation, cc_sandbox, tmp_path) -> None:
    count, quota = 12, 7
    operation = cc_operation(
        count=count,
        page=count,
        worker_env_extra={
            "CONSTANT_CONTACT_DAILY_QUOTA": str(quota),
            "CONNECTOR_STATE_DIR": str(tmp_path),  # this test's own counts...
            "CONNECTOR_RATE_LIMIT_REDIS_URL": "",  # ...not Redis's, which earlier tests fed
        },
    )
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=120)
    assert run.status == RunStatus.ERROR, (run.message, log_of(run)[-5:])
    assert f"{quota} of {quota} calls" in run.message and "00:00 UTC" in run.message
    assert "quota_exceeded" in run.message
    # Exactly the quota's calls reached Constant Contact; the one past it was never sent.
    assert len(cc_sandbox.api_requests()) == quota
    outcome = account_for(run, cc_sandbox, count)  # nothing lost: created or reported failed
    assert outcome["created"] == quota
    assert set(outcome["failed"].values()) == {"quota_exceeded"}
