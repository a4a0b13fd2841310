"""Operation runs: models, the engine, Celery tasks, schedules and agents.

How a run goes:

1. ``services.run_start`` creates an ``OperationRun`` (Pending) and, once the transaction
   commits, queues ``runs.execute`` with its id on the project's agent group (a Celery queue).
2. A worker claims it with one conditional UPDATE (Pending -> Running, ``attempts + 1``); a
   second delivery of the same message finds nothing to claim (``acks_late`` is safe).
3. ``engine`` reads source batches, maps each record (``designer.transformations``), writes
   target batches, and after each batch stores counters and failure rows in one transaction.
   Before a batch is written its source records are kept in ``in_flight_records``; if the
   worker dies meanwhile, those records are reported as failed (outcome unknown), so every
   record is either counted done once or reported.
4. A thread beside the engine refreshes ``heartbeat_at``; every worker's agent loop
   (``agents``) and beat's ``runs.reap_lost`` end or re-queue runs whose heartbeat is older
   than ``RUNS_AGENT_LOST_SECONDS`` (per ``Operation.on_agent_lost``), and end runs far past
   their time-out. Re-queued runs resume after the records already handled.
5. The final status runs the On Success / On Fail action (``services.run_actions``).

The embedded broker is kombu's filesystem transport with atomic hand-over (``broker``).
"""
