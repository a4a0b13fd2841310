"""Signals of the runs app, for the apps above it (console notifications, the API).

Lower apps never import higher ones: receivers connect in their own AppConfig.ready().
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

# Sent with ``run=<OperationRun>`` (fresh from the database) once a run has reached a final
# status (Success, Success with Warning, Error, Canceled) and that change is committed:
# by the engine when it finishes, by the cancel service (a Pending run canceled), and by the
# reaper (agent lost, time-out). Sent once per run.
run_finished = Signal()

logger = logging.getLogger(__name__)


def send_run_finished_on_commit(run_id: int) -> None:
    """Send ``run_finished`` for this run after the current transaction commits (at once when
    there is none). A receiver's failure is logged, never raised into the sender."""

    def send() -> None:
        from designer.runs.models import FINAL_STATUSES, OperationRun

        run = OperationRun.objects.select_related("project", "operation").filter(pk=run_id).first()
        if run is None or run.status not in FINAL_STATUSES:
            return
        for receiver, result in run_finished.send_robust(sender=OperationRun, run=run):
            if isinstance(result, Exception):
                logger.error(
                    "run_finished receiver %r failed for run %s",
                    receiver,
                    run_id,
                    exc_info=result,
                )

    transaction.on_commit(send)
