"""Celery tasks: thin wrappers over the engine and the services; they take ids only.

The top of the runs app: nothing in it imports this module (runs are queued by task name,
through ``publish``)."""

from __future__ import annotations

import socket

from celery import shared_task

from designer.runs import schedules, services
from designer.runs.engine import execute
from designer.runs.publish import EXECUTE_TASK

# acks_late with an idempotent claim: a second delivery of the same run finds nothing to do.
# Time limits stay off here: the engine enforces each operation's own time-out between
# batches, and the reaper ends runs that overstay it (a stuck call) as Error.


@shared_task(name=EXECUTE_TASK, bind=True, acks_late=True, ignore_result=True)
def execute_run(self, run_id: int) -> None:
    execute(run_id=run_id, agent_name=self.request.hostname or socket.gethostname())


@shared_task(name="runs.reap_lost", ignore_result=True)
def reap_lost() -> None:
    services.runs_reap_lost()


@shared_task(name="runs.prune", ignore_result=True)
def prune() -> None:
    services.runs_prune()


@shared_task(name="runs.scheduled", ignore_result=True)
def scheduled_run(schedule_id: int) -> None:
    schedules.schedule_fire(schedule_id=schedule_id)
