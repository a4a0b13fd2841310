"""Starting runs for the API and the triggers, and waiting for their end.

Runs are started by the runs app's own service (``run_start``); its refusals become
problem documents: 409 when the operation can't run as it is, 429 when too many runs of it
are already waiting (the runs app's cap on Pending runs).

A start that waits (``?wait=N`` on a trigger, a start or a re-run) is a synchronous call: its
run gets a RunResponse row at once, so the engine keeps what the chain's last step gave each
record, and the answer carries those records (``response``) once the run has ended. A start
that doesn't wait keeps nothing more than before (its caller reads counts and failures).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from ninja.responses import Status

from designer.acting import acting_as
from designer.api.problems import ApiProblem
from designer.design.models import Operation
from designer.runs import services as run_services
from designer.runs.models import OperationRun, RunResponse

WAIT_POLL_SECONDS = 0.2


def _refusal(exc: Exception, *, with_records: bool) -> ApiProblem:
    """The runs app's refusal as a problem: its cap on waiting runs (RunsWaiting) is 409 for
    a record-less start (that operation is already queued: the same run would repeat) and
    429 for runs bringing their own records (a rate: retry once some have started)."""
    waiting = getattr(run_services, "RunsWaiting", None)
    if with_records and waiting is not None and isinstance(exc, waiting):
        return ApiProblem(429, str(exc), headers={"Retry-After": "10"})
    return ApiProblem(409, str(exc))


def start_run(
    *,
    operation: Operation,
    trigger: str,
    user: Any = None,
    records: Sequence[dict] | None = None,
    keep_response: bool = False,
) -> OperationRun:
    try:
        with acting_as(user), transaction.atomic():
            run = run_services.run_start(
                operation=operation, trigger=trigger, user=user, records=records
            )
            _keep_response(run, keep_response)
            return run
    except run_services.RunRefused as exc:
        raise _refusal(exc, with_records=records is not None) from None


def rerun_failed(*, run: OperationRun, user: Any, keep_response: bool = False) -> OperationRun:
    try:
        with acting_as(user), transaction.atomic():
            new_run = run_services.run_rerun_failed(run=run, user=user)
            _keep_response(new_run, keep_response)
            return new_run
    except run_services.RunRefused as exc:
        raise _refusal(exc, with_records=True) from None


def _keep_response(run: OperationRun, keep: bool) -> None:
    """In the run's own transaction: the run is handed to a worker on commit, so the engine
    always finds the row it fills."""
    if keep:
        RunResponse.objects.create(run=run)


def run_response(run: OperationRun) -> dict[str, Any] | None:
    """The records the ended run answers with; None while it runs or if it keeps none."""
    if not run.is_final:
        return None
    kept = RunResponse.objects.filter(run_id=run.pk).first()
    if kept is None:
        return None
    return {
        "count": kept.count,
        "kept": len(kept.records),
        "truncated": kept.truncated,
        "records": kept.records,
    }


def wait_for_end(run: OperationRun, seconds: float) -> OperationRun:
    """Poll the run's status until it is final or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while not run.is_final and time.monotonic() < deadline:
        time.sleep(WAIT_POLL_SECONDS)
        run.refresh_from_db()
    return run


def started_answer(run: OperationRun, wait: float) -> Status:
    """202 with the status URL, or 200 with the result if the run ended within ``wait``."""
    if wait > 0:
        run = wait_for_end(run, wait)
    run = OperationRun.objects.select_related("operation", "triggered_by").get(pk=run.pk)
    body = {
        "run_id": run.pk,
        "status": run.status,
        "status_url": f"/api/v1/projects/{run.project_id}/runs/{run.pk}",
        "run": run,
        "response": run_response(run),
    }
    # Without ?wait it is 202 even if a fast worker already ended the run: the answer's
    # status must not depend on that race (the caller did not ask for the result).
    return Status(200 if wait > 0 and run.is_final else 202, body)
