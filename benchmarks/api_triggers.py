"""Inbound API triggers over loopback HTTP: trigger-to-Running latency and accepted requests
per second with 50 concurrent clients.

    .venv/bin/python -m benchmarks.api_triggers

In a child process with a fresh SQLite database and broker folder (nothing touches var/):
gunicorn serves the app (2 processes x 16 threads), one Celery worker (prefork, concurrency 1)
runs the operations (10 records, the engine benchmark's connector).

* Latency: 20 POSTs to a secret trigger URL one at a time; for each, the run's ``started_at``
  minus the moment the client sent the request (same clock): trigger -> Running, p50 / p95.
* Throughput: 50 client threads POST small JSON bodies (3 records) as fast as they can for
  BENCH_API_SECONDS (default 20 s), rate limit off; accepted (202) requests per second and
  every other answer or exception counted as an error (the goal is 0). BENCH_API_RATE_LIMIT=N
  turns the per-trigger limit on at N per minute (a high N measures its cost: each request
  is then counted in the shared store, SQLite under the child's state folder).

Figures go to benchmarks/results.json under "api_triggers".
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import child_env, merge_results, run_child

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LATENCY_REQUESTS = 20
CLIENTS = 50


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def _child() -> dict[str, Any]:
    import django

    django.setup()
    import requests
    from django.conf import settings
    from django.core.management import call_command

    from designer.api.triggers import trigger_save
    from designer.celery import worker_command
    from designer.design.models import Activity, Connection, Operation, Transformation
    from designer.design.operations import plain_chain
    from designer.projects.models import Project
    from designer.runs.models import Agent, OperationRun

    call_command("migrate", verbosity=0)
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    project = Project.objects.create(name="Bench", agent_group=queue)
    connection = Connection.objects.create(project=project, connector_key="bench", name="B")
    source = Activity.objects.create(
        project=project,
        connection=connection,
        activity_type="numbers",
        name="source",
        config={"count": 10},
    )
    target = Activity.objects.create(
        project=project, connection=connection, activity_type="discard", name="target"
    )
    mapping = Transformation.objects.create(
        project=project,
        name="M",
        mapping=[{"target": "id", "kind": "path", "value": "id"}],
    )
    operation = Operation.objects.create(project=project, name="Hooked")
    plain_chain(operation, source=source, transformation=mapping, target=target)
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=None)

    port = _free_port()
    logs = Path(tempfile.mkdtemp(prefix="bench-api-"))
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "designer.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "16",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=(logs / "web.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        worker_command(
            queue=queue, name=f"bench-{queue}@bench", pool="prefork", loglevel="WARNING"
        ),
        cwd=ROOT,
        stdout=(logs / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}{shown.url_path}"
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/v1/openapi.json")
        deadline = time.monotonic() + 60
        while not Agent.objects.filter(last_heartbeat__isnull=False).exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start; logs in {logs}")
            time.sleep(0.1)

        http = requests.Session()

        def running(run_id: int, timeout: float = 60) -> datetime:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                started = (
                    OperationRun.objects.filter(pk=run_id).values_list("started_at", flat=True)
                ).first()
                if started is not None:
                    return started
                time.sleep(0.005)
            raise SystemExit(f"run {run_id} never started; logs in {logs}")

        http.post(url, timeout=30)  # warm-up: first imports in the web and worker processes
        time.sleep(1)
        latencies = []
        for _ in range(LATENCY_REQUESTS):
            sent = datetime.now(UTC)
            answer = http.post(url, json=[{"id": 1}], timeout=30)
            assert answer.status_code == 202, answer.text
            started = running(answer.json()["run_id"])
            latencies.append((started - sent).total_seconds() * 1000)
            # Let it finish, so each request meets an idle agent.
            time.sleep(0.3)

        seconds = float(os.environ.get("BENCH_API_SECONDS", "20"))
        accepted = 0
        errors: dict[str, int] = {}
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds
        body = json.dumps([{"id": 1}, {"id": 2}, {"id": 3}])

        def client() -> None:
            nonlocal accepted
            session = requests.Session()
            while time.monotonic() < stop_at:
                try:
                    answer = session.post(
                        url,
                        data=body,
                        headers={"Content-Type": "application/json"},
                        timeout=60,
                    )
                    outcome = "202" if answer.status_code == 202 else str(answer.status_code)
                except requests.RequestException as exc:
                    outcome = type(exc).__name__
                with lock:
                    if outcome == "202":
                        accepted += 1
                    else:
                        errors[outcome] = errors.get(outcome, 0) + 1

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        return {
            "server": "gunicorn, 2 processes x 16 threads; SQLite (WAL); filesystem broker",
            "rate_limit_per_minute": settings.API_TRIGGER_RATE_PER_MINUTE,
            # The machine is shared: the 1-minute load average when the clients finished.
            "load_average": round(os.getloadavg()[0], 1),
            "trigger_to_running_ms": {
                "requests": LATENCY_REQUESTS,
                "p50": round(statistics.median(latencies), 1),
                "p95": round(_percentile(latencies, 0.95), 1),
                "max": round(max(latencies), 1),
            },
            "concurrent": {
                "clients": CLIENTS,
                "seconds": round(elapsed, 1),
                "accepted": accepted,
                "accepted_per_second": round(accepted / elapsed, 1),
                "errors": sum(errors.values()),
                "error_kinds": errors,
            },
        }
    finally:
        for proc in (web, worker):
            proc.send_signal(signal.SIGTERM if proc is web else signal.SIGQUIT)
        for proc in (web, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        env = child_env(
            tmp,
            # Measuring the server, not the limit (unless asked to count with it).
            API_TRIGGER_RATE_PER_MINUTE=os.environ.get("BENCH_API_RATE_LIMIT", "0"),
            # Every accepted request queues a run: the per-operation cap on waiting runs is
            # raised so that it does not refuse them (that refusal is tested, not measured).
            RUNS_MAX_PENDING_WITH_INPUT="1000000",
            RUNS_HEARTBEAT_SECONDS="2",
        )
        return run_child("benchmarks.api_triggers", env, timeout=900)


def main() -> None:
    if "--child" in sys.argv:
        print(json.dumps(_child()))
        return
    figures = run()
    merge_results("api_triggers", figures)
    latency, load = figures["trigger_to_running_ms"], figures["concurrent"]
    print(f"{'what':<44} figure")
    print(f"{'trigger -> Running, p50 / p95':<44} {latency['p50']} / {latency['p95']} ms")
    print(
        f"{'accepted trigger requests/s, 50 clients':<44} {load['accepted_per_second']} "
        f"({load['accepted']} in {load['seconds']} s, {load['errors']} errors)"
    )


if __name__ == "__main__":
    main()
