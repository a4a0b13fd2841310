"""The Redis broker restarted mid-run. A redis-server of this test's own (a free port,
append-only file fsynced on every write, as a production broker keeps its queue) carries
the messages between this process and a dedicated worker; it is killed while one run
executes and another waits in the queue, and started again on the same port and data.

Runs in both CI passes: it needs only the redis-server binary, never the shared one.
"""

from __future__ import annotations

import collections
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import make_operation, new_queue, wait_final, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


class OwnRedis:
    def __init__(self, folder: Path, *, persistent: bool = True) -> None:
        self.persistent = persistent
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                *(
                    ["--appendonly", "yes", "--appendfsync", "always"]
                    if self.persistent
                    else ["--appendonly", "no"]  # as CI's own Redis is started
                ),
            ],
            stdout=(self.folder / "redis.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # a crash, not a polite shutdown
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(request, tmp_path) -> Iterator[OwnRedis]:
    if not Path(REDIS).exists():
        pytest.fail("redis-server is needed (apt-get install redis-server)")
    server = OwnRedis(tmp_path, persistent=getattr(request, "param", True))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def producer_on(own_redis, worker_env, monkeypatch) -> Iterator[None]:
    """This process publishes runs to the test's own Redis (and back afterwards)."""
    from designer.celery import app

    # Only references are swapped: kombu keeps one pool per broker URL for the whole
    # process, so closing the session's pool would break every later test.
    saved = (
        app.conf.broker_url,
        app.conf.broker_transport_options,
        app._pool,
        app.amqp._producer_pool,
    )
    app.conf.broker_url = own_redis.url
    app.conf.broker_transport_options = {}
    # Celery prefers these environment variables to its configuration (CI's Redis pass).
    monkeypatch.setenv("CELERY_BROKER_URL", own_redis.url)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    app._pool = None
    app.amqp._producer_pool = None
    yield
    template = getattr(app._pool, "connection", None)
    if template is not None and f"127.0.0.1:{own_redis.port}/" in template.as_uri():
        app._pool.force_close_all()  # this test's own URL: never used again
    (
        app.conf.broker_url,
        app.conf.broker_transport_options,
        app._pool,
        app.amqp._producer_pool,
    ) = saved


def _written(path: Path) -> collections.Counter:
    return collections.Counter(path.read_text().splitlines()) if path.exists() else {}


def test_broker_restart_mid_run_loses_no_run_and_runs_none_twice(
    project, workers, own_redis, producer_on, tmp_path
):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    ledgers = [tmp_path / f"ledger{i}" for i in range(3)]
    busy = make_operation(
        project, count=200, page=10, batch=10, delay=0.1, ledger=ledgers[0], name="Busy"
    )
    waiting = make_operation(project, count=20, ledger=ledgers[1], name="Waiting")
    later = make_operation(project, count=20, ledger=ledgers[2], name="Later")
    worker = workers.start(queue, extra_env={"CELERY_BROKER_URL": own_redis.url})

    first = run_start(operation=busy, trigger=RunTrigger.MANUAL)

    def running():
        first.refresh_from_db()
        return first.status == RunStatus.RUNNING and first.source_records >= 30

    wait_for(running, what="the first run to be under way")
    second = run_start(operation=waiting, trigger=RunTrigger.MANUAL)  # queued behind it
    time.sleep(0.3)
    own_redis.kill()
    first.refresh_from_db()
    assert first.status == RunStatus.RUNNING  # the crash really is mid-run
    time.sleep(1.5)
    own_redis.start()

    wait_final(first, timeout=90)
    wait_final(second, timeout=90)
    third = wait_final(run_start(operation=later, trigger=RunTrigger.MANUAL), timeout=90)

    for run, ledger, count in ((first, ledgers[0], 200), (second, ledgers[1], 20)):
        assert run.status == RunStatus.SUCCESS, (run.pk, run.message)
        assert run.attempts == 1  # a redelivered message found nothing to claim
        assert (run.source_records, run.target_records) == (count, count)
        written = _written(ledger)
        assert len(written) == count and max(written.values()) == 1
    assert third.status == RunStatus.SUCCESS and len(_written(ledgers[2])) == 20
    assert worker.process.poll() is None, worker.output()[-2000:]


@pytest.mark.parametrize("own_redis", [False], indirect=True)
def test_a_broker_without_persistence_loses_no_queued_run(
    project, workers, own_redis, producer_on, tmp_path
):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    busy = make_operation(project, count=300, page=10, batch=10, delay=0.1, name="Busy")
    waiting = make_operation(project, count=5, name="Waiting")
    # The reaper publishes again a run no agent picked up 2 s after its message went out.
    workers.start(
        queue,
        extra_env={"CELERY_BROKER_URL": own_redis.url, "RUNS_PENDING_REPUBLISH_SECONDS": "2"},
    )
    first = run_start(operation=busy, trigger=RunTrigger.MANUAL)

    def running():
        first.refresh_from_db()
        return first.status == RunStatus.RUNNING

    wait_for(running, what="the first run to be under way")
    second = run_start(operation=waiting, trigger=RunTrigger.MANUAL)  # only in Redis's memory
    time.sleep(0.3)
    own_redis.kill()
    first.refresh_from_db()
    assert first.status == RunStatus.RUNNING  # the second run's message was still queued
    own_redis.start()  # empty: the queued message is gone
    wait_final(first, timeout=90)
    wait_final(second, timeout=15)
    assert second.status == RunStatus.SUCCESS
    assert second.attempts == 1
    assert second.log_lines.filter(message__contains="queued again").exists()
