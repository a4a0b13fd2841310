"""Fixtures for run tests: the fake connector, operations built on it, and real Celery worker
processes sharing the test database and a per-session broker.

Workers: ``celery -A designer worker -P solo`` subprocesses with the same settings module, the
test database (``DATABASE_URL`` pointing at it), ``EXTRA_CONNECTORS`` registering the fake
connector, fast heartbeats and a short agent-lost time-out. With the filesystem broker each
session gets its own broker folder; with Redis each worker listens on a unique queue.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from connectors.registry import CONNECTORS, get_connector
from designer.celery import worker_command
from designer.crypto import encrypt_json
from designer.runs.models import FINAL_STATUSES, Agent, OperationRun
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.fixtures.waiting import wait_for

FAKE = "tests.runs.fake_connector.FakeConnector"
SECRET = "sk-live-0123456789abcdef"
HEARTBEAT_SECONDS = 0.5
AGENT_LOST_SECONDS = 3.0
WORKER_RATE_SPEEDUP = 100
# Retry backoff waits 10x shorter in worker processes (the same tries): a fault test's
# burst of 503s costs about 2 s of waiting, not 20.
WORKER_RETRY_SPEEDUP = 10


@pytest.fixture(autouse=True)
def fake_connector(settings) -> Iterator[None]:
    CONNECTORS["fake"] = FAKE
    get_connector.cache_clear()
    settings.RUNS_AGENT_LOST_SECONDS = AGENT_LOST_SECONDS
    # In-process runs hold the test's transaction; their heartbeat thread must not beat
    # into it (worker processes get fast heartbeats through their environment).
    settings.RUNS_HEARTBEAT_SECONDS = 60
    yield
    CONNECTORS.pop("fake", None)
    get_connector.cache_clear()


def make_operation(
    project,
    *,
    count: int = 10,
    page: int = 100,
    delay: float = 0.0,
    batch: int = 100,
    fail_every: int = 0,
    write_delay: float = 0.0,
    mode: str = "",
    per_record: bool = False,
    mapping: list | None = None,
    ledger: Path | None = None,
    name: str | None = None,
    **operation_fields: Any,
):
    connection = ConnectionFactory(
        project=project,
        connector_key="fake",
        config={"ledger": str(ledger) if ledger else ""},
        secrets_encrypted=encrypt_json({"api_key": SECRET}),
    )
    source = ActivityFactory(
        connection=connection,
        activity_type="generate",
        config={"count": count, "page": page, "delay": delay},
    )
    target = ActivityFactory(
        connection=connection,
        activity_type="sink",
        config={
            "batch": batch,
            "fail_every": fail_every,
            "delay": write_delay,
            "mode": mode,
            "per_record": per_record,
        },
    )
    transformation = TransformationFactory(project=project, mapping=mapping or [])
    extra = {"name": name} if name else {}
    return OperationFactory(
        project=project,
        source=source,
        target=target,
        transformation=transformation,
        **extra,
        **operation_fields,
    )


def wait_final(run: OperationRun, timeout: float = 40.0) -> OperationRun:
    def done():
        run.refresh_from_db()
        return run.status in FINAL_STATUSES

    wait_for(done, timeout=timeout, what=f"run {run.pk} to end")
    return run


# --------------------------------------------------------------------------- worker processes
def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


@pytest.fixture(scope="session")
def worker_env(django_db_setup, tmp_path_factory) -> dict[str, str]:
    """The environment of worker processes; points this process's producer at the same
    broker folder."""
    from designer.celery import app

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="designer.settings",
        DATABASE_URL=_database_url(),
        EXTRA_CONNECTORS=f"fake={FAKE}",
        RUNS_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
        RUNS_AGENT_LOST_SECONDS=str(AGENT_LOST_SECONDS),
        # Connector calls paced 100x the documented rate (4/s for Constant Contact): the
        # sandbox doesn't limit the tests, and a 1,000-contact run then takes seconds.
        CONNECTOR_RATE_LIMIT_SPEEDUP=str(WORKER_RATE_SPEEDUP),
        CONNECTOR_RETRY_SPEEDUP=str(WORKER_RETRY_SPEEDUP),
        PYTHONPATH=str(settings.BASE_DIR),
        PYTHONUNBUFFERED="1",
    )
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = tmp_path_factory.mktemp("broker")
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir()
        app.conf.broker_transport_options = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        }
        # Connections made before this (if any) point at the default folder: drop them.
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
            app.amqp._producer_pool = None
        env["CELERY_BROKER_DIR"] = str(folder)
    return env


@dataclass
class Worker:
    name: str  # the Celery node name, also the Agent's name
    queue: str
    process: subprocess.Popen
    log_path: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)

    def children(self) -> list[int]:
        """Pids of the worker's pool processes (prefork)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Workers:
    env: dict[str, str]
    folder: Path
    started: list[Worker] = field(default_factory=list)

    def start(
        self,
        queue: str,
        *,
        extra_env: dict[str, str] | None = None,
        wait: bool = True,
        pool: str = "solo",
    ):
        workers = self.start_many([queue], extra_env=extra_env, wait=wait, pool=pool)
        return workers[0]

    def start_many(
        self, queues: list[str], *, extra_env=None, wait: bool = True, pool: str = "solo"
    ):
        """Start one worker per queue entry at once (they boot in parallel)."""
        new = []
        for queue in queues:
            short = f"w{uuid.uuid4().hex[:8]}"
            name = f"{short}@{socket.gethostname()}"
            log_path = self.folder / f"{short}.log"
            env = {**self.env, **(extra_env or {})}
            process = subprocess.Popen(
                worker_command(queue=queue, name=name, pool=pool),
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log_path.open("w"),
                stderr=subprocess.STDOUT,
            )
            worker = Worker(name=name, queue=queue, process=process, log_path=log_path)
            self.started.append(worker)
            new.append(worker)
        if wait:
            for worker in new:
                self.wait_ready(worker)
        return new

    def wait_ready(self, worker: Worker, timeout: float = 40.0) -> None:
        def ready():
            if worker.process.poll() is not None:
                raise AssertionError(f"worker {worker.name} exited:\n{worker.output()}")
            return Agent.objects.filter(name=worker.name, last_heartbeat__isnull=False).exists()

        wait_for(ready, timeout=timeout, interval=0.2, what=f"worker {worker.name}")

    def stop_all(self) -> None:
        # Killed outright: the test is over, and a warm or cold shutdown costs seconds each.
        for worker in self.started:
            if worker.process.poll() is None:
                pool = worker.children()  # prefork pool processes outlive a SIGKILLed parent
                worker.process.kill()
                for pid in pool:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        for worker in self.started:
            worker.process.wait(timeout=20)


@pytest.fixture
def workers(worker_env, tmp_path) -> Iterator[Workers]:
    pool = Workers(env=worker_env, folder=tmp_path)
    yield pool
    pool.stop_all()


@pytest.fixture(scope="module")
def shared_worker(worker_env, tmp_path_factory, django_db_blocker) -> Iterator[Worker]:
    """One worker for a whole module, on its own queue (projects use it as agent group)."""
    with django_db_blocker.unblock():
        pool = Workers(env=worker_env, folder=tmp_path_factory.mktemp("workers"))
        worker = pool.start(f"runs-{uuid.uuid4().hex[:8]}")
        yield worker
        pool.stop_all()


def new_queue() -> str:
    return f"runs-{uuid.uuid4().hex[:8]}"


__all__ = ["make_operation", "new_queue", "wait_final", "wait_for"]
