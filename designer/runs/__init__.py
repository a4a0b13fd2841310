"""Operation runs: models, the engine, Celery tasks, schedules and agents.

How a run goes:

1. ``services.run_start`` creates an ``OperationRun`` (Pending) and, once the transaction
   commits, queues ``runs.execute`` with its id on the project's agent group (a Celery queue).
2. A worker claims it with one conditional UPDATE (Pending -> Running, ``attempts + 1``); a
   second delivery of the same message finds nothing to claim (``acks_late`` is safe).
3. ``engine`` (the loop) reads source batches, maps each record (``designer.transformations``)
   and writes target batches, through pure ``steps``; every database write goes through the
   ``ledger``, ownership-checked. Before a batch is written its source records are kept in
   ``in_flight_records`` with the target's journal (``in_flight_journal``); per-record results
   are committed about every second (``in_flight_done``), the rest with the batch.
4. A thread beside the engine (``heartbeat``) refreshes ``heartbeat_at``; every worker's agent
   loop (``agents``) and beat's ``runs.reap_lost`` end or re-queue runs whose heartbeat is older
   than ``RUNS_AGENT_LOST_SECONDS`` (per ``Operation.on_agent_lost``), and end runs far past
   their time-out. A re-queued run first resumes its batch in flight (the target, told it is
   ``resuming``, finds out what the lost attempt did), then goes on after it. A run ended
   instead reports the records of that batch without a result as failed (outcome unknown).
5. The final status runs the On Success / On Fail action (``services.run_actions``).

The embedded broker is kombu's filesystem transport with atomic hand-over (``broker``).

Imports go one way: models, signals, steps, publish -> ledger, services ->
schedules, engine -> tasks, views (runs are queued by task name, so nothing imports tasks).
"""
