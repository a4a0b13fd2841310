"""Hand a run's id to the broker, on its agent group's queue.

By task name, so the services that queue runs need not import the tasks module (which
imports them): the runs app's modules import one way only, tasks at the top.
"""

from __future__ import annotations

from designer.celery import app

EXECUTE_TASK = "runs.execute"


def publish_run(run_id: int, queue: str) -> None:
    app.send_task(EXECUTE_TASK, args=[run_id], queue=queue)
