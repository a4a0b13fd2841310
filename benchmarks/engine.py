"""Run engine on real Celery workers: queue latency and throughput of small operations.

    .venv/bin/python -m benchmarks.engine

For the embedded set-up (filesystem broker + SQLite), Redis + SQLite and Redis + PostgreSQL
(when reachable at BENCH_REDIS_URL / BENCH_POSTGRES_URL, defaults on 127.0.0.1), each with
one and with two workers (prefork, concurrency 1 each):

* Queue latency: Run -> Running (``started_at - created_at``) of 20 runs started one at a
  time, each waited for before the next; p50 / p95 / max in milliseconds.
* Throughput: 100 small operations (10 records each) queued at once; runs per second from the
  first queued to the last ended.
* One 20,000-record run (one worker): records per second through source -> mapping -> target
  with per-batch counter and failure writes (1% of records fail, as rows).

Each configuration runs in a child process with its own fresh database (a temporary SQLite
file, or a PostgreSQL database created and dropped) and broker folder; nothing touches var/.
Figures go to benchmarks/results.json under "engine".
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import merge_results
from connectors.base import ActivityType, Connector, RecordResult, Role, RunContext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LATENCY_RUNS = 20
THROUGHPUT_RUNS = 100
BIG_RUN = 20_000


# ------------------------------------------------------------ the benchmark's own connector
class Numbers(ActivityType):
    key = "numbers"
    name = "Numbers"
    role = Role.SOURCE

    def estimate_total(self, context: RunContext, config: Mapping[str, Any]) -> int | None:
        return int(config["count"])

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        count = int(config["count"])
        for start in range(0, count, 500):
            yield [
                {"id": i, "email": f"n{i}@example.com", "first_name": f"N{i}"}
                for i in range(start, min(count, start + 500))
            ]


class Discard(ActivityType):
    key = "discard"
    name = "Discard"
    role = Role.TARGET
    preferred_batch_size = 500

    def write(
        self, context: RunContext, config: Mapping[str, Any], batch: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        return [
            RecordResult.failed(key=str(r["id"]), error_key="bench", error_message="1 in 100")
            if r["id"] % 100 == 99
            else RecordResult.done(key=str(r["id"]))
            for r in batch
        ]


class BenchConnector(Connector):
    key = "bench"
    name = "Benchmark"
    version = "1.0.0"
    activity_types = {"numbers": Numbers(), "discard": Discard()}


# ------------------------------------------------------------------------- child process
def _child(workers: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from designer.celery import worker_command
    from designer.design.models import Activity, Connection, Operation, Transformation
    from designer.design.operations import plain_chain
    from designer.projects.models import Project
    from designer.runs.models import FINAL_STATUSES, Agent, OperationRun, RunStatus
    from designer.runs.services import run_start

    call_command("migrate", verbosity=0)
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    project = Project.objects.create(name="Bench", agent_group=queue)
    connection = Connection.objects.create(project=project, connector_key="bench", name="B")
    mapping = Transformation.objects.create(
        project=project,
        name="M",
        mapping=[
            {"target": "email_address.address", "kind": "path", "value": "email"},
            {"target": "first_name", "kind": "path", "value": "first_name"},
            {"target": "id", "kind": "path", "value": "id"},
        ],
    )

    def operation(name: str, count: int) -> Operation:
        source = Activity.objects.create(
            project=project,
            connection=connection,
            activity_type="numbers",
            name=f"{name} source",
            config={"count": count},
        )
        target = Activity.objects.create(
            project=project,
            connection=connection,
            activity_type="discard",
            name=f"{name} target",
        )
        made = Operation.objects.create(project=project, name=name)
        plain_chain(made, source=source, transformation=mapping, target=target)
        return made

    small = operation("small", 10)
    big = operation("big", BIG_RUN)
    procs = []
    logs = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    for n in range(workers):
        name = f"bench{n}-{uuid.uuid4().hex[:4]}@bench"
        procs.append(
            subprocess.Popen(
                worker_command(queue=queue, name=name, pool="prefork", loglevel="WARNING"),
                cwd=ROOT,
                stdout=(logs / f"{n}.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
    try:
        deadline = time.monotonic() + 60
        while Agent.objects.filter(last_heartbeat__isnull=False).count() < workers:
            if time.monotonic() > deadline:
                raise SystemExit(f"workers did not start; logs in {logs}")
            time.sleep(0.1)

        def start(op: Operation) -> OperationRun:
            with transaction.atomic():
                return run_start(operation=op, trigger="command")

        def wait(run_ids: list[int], timeout: float = 600) -> None:
            deadline = time.monotonic() + timeout
            while OperationRun.objects.filter(
                pk__in=run_ids, status__in=FINAL_STATUSES
            ).count() < len(run_ids):
                if time.monotonic() > deadline:
                    raise SystemExit("runs did not finish")
                time.sleep(0.01)

        start(small)  # warm-up: first task import, first connections
        wait(list(OperationRun.objects.values_list("pk", flat=True)))

        latencies = []
        for _ in range(LATENCY_RUNS):
            run = start(small)
            wait([run.pk])
            run.refresh_from_db()
            assert run.status == RunStatus.SUCCESS, run.message
            latencies.append((run.started_at - run.created_at).total_seconds() * 1000)
        latencies.sort()

        # One run per operation: a second Run of an operation still waiting is refused.
        smalls = [operation(f"small {n}", 10) for n in range(THROUGHPUT_RUNS)]
        ids = [start(op).pk for op in smalls]
        wait(ids)
        runs = OperationRun.objects.filter(pk__in=ids)
        first = min(r.created_at for r in runs)
        last = max(r.ended_at for r in runs)
        span = (last - first).total_seconds()
        assert all(r.status == RunStatus.SUCCESS for r in runs)
        figures: dict[str, Any] = {
            "latency_ms": {
                "runs": LATENCY_RUNS,
                "p50": round(statistics.median(latencies), 1),
                "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
                "max": round(latencies[-1], 1),
            },
            "throughput": {
                "runs": THROUGHPUT_RUNS,
                "records_per_run": 10,
                "seconds": round(span, 2),
                "runs_per_second": round(THROUGHPUT_RUNS / span, 1),
                "agents_used": runs.values("agent_name").distinct().count(),
            },
        }
        if workers == 1:
            run = start(big)
            wait([run.pk])
            run.refresh_from_db()
            seconds = (run.ended_at - run.started_at).total_seconds()
            figures["big_run"] = {
                "records": run.source_records,
                "written": run.target_records,
                "failed_rows": run.failed_records,
                "seconds": round(seconds, 2),
                "records_per_second": round(run.source_records / seconds),
            }
        return figures
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGQUIT)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


# ------------------------------------------------------------------------ orchestration
def _redis_ok(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


def _postgres_ok(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=2):
            return True
    except Exception:
        return False


@contextmanager
def _database(kind: str, tmp: str, postgres_url: str) -> Iterator[str]:
    """A fresh database for one configuration: a SQLite file, or a PostgreSQL database
    created (and dropped) on the server at ``postgres_url``."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    import psycopg

    name = f"bench_engine_{os.getpid()}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _configuration(
    broker: str,
    database: str,
    workers: int,
    redis_url: str,
    postgres_url: str,
    conn_max_age: int = 0,
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp,
        _database(database, tmp, postgres_url) as database_url,
    ):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "designer.settings",
            "VAR_DIR": tmp,
            "DATABASE_URL": database_url,
            "DB_CONN_MAX_AGE": str(conn_max_age),
            "EXTRA_CONNECTORS": "bench=benchmarks.engine.BenchConnector",
            "CELERY_BROKER_DIR": f"{tmp}/broker",
            "RUNS_HEARTBEAT_SECONDS": "2",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        env["CELERY_BROKER_URL"] = redis_url if broker == "redis" else "filesystem://"
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.engine", "--child", str(workers)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if out.returncode != 0:
            raise SystemExit(f"{broker} x{workers} failed:\n{out.stdout}\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> dict[str, Any]:
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    postgres_url = os.environ.get(
        "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    # The embedded set-up (filesystem broker + SQLite), then Redis with SQLite and, when a
    # server is there, Redis with PostgreSQL (the production shape).
    # PostgreSQL twice: with the default of a new connection per task (DB_CONN_MAX_AGE=0)
    # and with persistent connections (60 s), what a deployment's workers should use.
    configurations = [("filesystem", "sqlite", 0)]
    if _redis_ok(redis_url):
        configurations.append(("redis", "sqlite", 0))
        if _postgres_ok(postgres_url):
            configurations += [("redis", "postgres", 0), ("redis", "postgres", 60)]
    figures: dict[str, Any] = {"pool": "prefork, concurrency 1 per worker"}
    for broker, database, conn_max_age in configurations:
        for workers in (1, 2):
            persistent = "_persistent" if conn_max_age else ""
            name = f"{broker}_{database}{persistent}_{workers}_worker{'s' if workers > 1 else ''}"
            figures[name] = _configuration(
                broker, database, workers, redis_url, postgres_url, conn_max_age
            )
    if len(configurations) == 1:
        figures["note"] = f"Redis not reachable at {redis_url}: embedded broker only"
    return figures


def print_table(figures: dict[str, Any]) -> None:
    print("Run engine on Celery workers (prefork -c 1 per worker)")
    print(f"  {'configuration':<38} {'Run->Running p50/p95/max ms':>28} {'small runs/s':>13}")
    for name, f in figures.items():
        if not isinstance(f, dict) or "latency_ms" not in f:
            continue
        lat = f["latency_ms"]
        print(
            f"  {name:<38} {lat['p50']:>12} / {lat['p95']} / {lat['max']:<8} "
            f"{f['throughput']['runs_per_second']:>10}"
        )
        if "big_run" in f:
            big = f["big_run"]
            print(
                f"  {'':<38} one {big['records']:,}-record run: {big['seconds']} s, "
                f"{big['records_per_second']:,} records/s, {big['failed_rows']} failure rows"
            )


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(int(sys.argv[2]))))
        return 0
    figures = run()
    print_table(figures)
    merge_results("engine", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
