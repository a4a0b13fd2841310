"""The database briefly unavailable while a worker is mid-run.

PostgreSQL: every other connection to the database is terminated (the worker's run, its
heartbeat thread and its agent loop all lose theirs), as a fail-over or a restart would do.
SQLite: another process holds the write lock for three seconds (workers wait it out).
Either way the run ends Success (or Warning): on PostgreSQL the engine leaves a run whose
connection died to the agent-lost policy, here re-queue, which resumes it after its last
committed batch. Every record is written once or reported failed.
"""

from __future__ import annotations

import collections
import sqlite3
import threading
import time

import pytest
from django.db import connection

from designer.design.models import AgentLostPolicy
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import make_operation, new_queue, wait_final, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _cut_postgres_connections(times: int = 3, gap: float = 0.5) -> int:
    killed = 0
    for _ in range(times):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            killed += cursor.fetchone()[0]
        time.sleep(gap)
    return killed


def _lock_sqlite(seconds: float) -> threading.Thread:
    name = connection.settings_dict["NAME"]
    locked = threading.Event()

    def hold() -> None:
        db = sqlite3.connect(name, timeout=30, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(seconds)
        db.execute("COMMIT")
        db.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert locked.wait(30)
    return thread


def test_database_outage_mid_run_loses_nothing(project, workers, tmp_path):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    ledger = tmp_path / "ledger"
    count = 300
    operation = make_operation(
        project,
        count=count,
        page=10,
        batch=10,
        delay=0.03,
        write_delay=0.03,
        ledger=ledger,
        on_agent_lost=AgentLostPolicy.REQUEUE,
    )
    workers.start(queue)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def progressed():
        run.refresh_from_db()
        return run.source_records >= 60

    wait_for(progressed, what="progress")
    if connection.vendor == "postgresql":
        assert _cut_postgres_connections() >= 1
    else:
        _lock_sqlite(3.0).join()
    wait_final(run, timeout=90)
    written = collections.Counter(ledger.read_text().splitlines())
    assert max(written.values()) == 1, "a record was written twice"
    failed = dict(run.failures.values_list("key", "error_key"))
    assert set(failed.values()) <= {"agent_lost"}
    assert run.target_records == len(set(written) - set(failed))
    assert run.target_records + run.failed_records == run.source_records
    handled = {f"r{i}@example.com" for i in range(run.source_records)}
    assert set(written) | set(failed) == handled
    # PostgreSQL: the engine's connection is cut under it; it stops beating and the
    # re-queue policy resumes the run after its last committed batch.
    assert run.status in (RunStatus.SUCCESS, RunStatus.WARNING), run.message
    assert run.source_records == count
    print(f"\noutage: attempts {run.attempts}, failed {len(failed)}, status {run.status}")
