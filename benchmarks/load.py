"""Load on loopback: 50 users browsing the designer and starting runs for two minutes.

    .venv/bin/python -m benchmarks.load        (LOAD_USERS=50 LOAD_SECONDS=120 by default)

Starts, in a fresh temporary VAR_DIR (SQLite in WAL mode and the filesystem broker, the
embedded set-up; nothing touches var/): gunicorn with ``designer.wsgi`` (LOAD_WEB_WORKERS
processes, 3 by default) and one Celery worker (prefork, concurrency 2) carrying the
benchmark connector of benchmarks/engine.py. Then locust (benchmarks/_locustfile.py, headless;
the underscore keeps `make bench` from running it as a benchmark)
runs LOAD_USERS users, each logged in with its own account, with one to three seconds of
thought between actions: designer page and panes, runs list, run page, settings, and Run.

Reports the error rate, p50 / p95 / max latency and requests per second, overall and per
page, and checks afterwards that every run started under load reached a final status, none
twice. Figures go to benchmarks/results.json under "load".
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import merge_results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OPERATIONS = 3


def _setup(users: int, password: str) -> dict[str, Any]:
    """In the child's fresh database: users load0..N, one project they edit, operations."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from designer.design.models import Activity, Connection, Operation, Transformation
    from designer.design.operations import plain_chain
    from designer.projects.models import Membership, Project, Role

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="Load", agent_group="load")
    hashed = make_password(password)
    User = get_user_model()
    people = User.objects.bulk_create(
        [User(username=f"load{n}", password=hashed) for n in range(users)]
    )
    Membership.objects.bulk_create(
        [Membership(project=project, user=user, role=Role.EDITOR) for user in people]
    )
    connection = Connection.objects.create(project=project, connector_key="bench", name="Bench")
    ids = []
    for n in range(OPERATIONS):
        source = Activity.objects.create(
            project=project,
            connection=connection,
            activity_type="numbers",
            name=f"Numbers {n}",
            config={"count": 50},
        )
        target = Activity.objects.create(
            project=project, connection=connection, activity_type="discard", name=f"Discard {n}"
        )
        mapping = Transformation.objects.create(
            project=project,
            name=f"Map {n}",
            mapping=[
                {"target": "email_address.address", "kind": "path", "value": "email"},
                {"target": "id", "kind": "path", "value": "id"},
            ],
        )
        operation = Operation.objects.create(
            project=project, name=f"Operation {n}", position_x=40 + 300 * n, position_y=60
        )
        plain_chain(operation, source=source, transformation=mapping, target=target)
        ids.append(operation.pk)
    return {"project": project.pk, "operations": ids}


def _final_counts() -> dict[str, Any]:
    import django

    django.setup()
    from django.db.models import Count

    from designer.runs.models import FINAL_STATUSES, OperationRun

    deadline = time.monotonic() + 120
    while OperationRun.objects.exclude(status__in=FINAL_STATUSES).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    runs = OperationRun.objects.all()
    return {
        "runs": runs.count(),
        "by_status": dict(runs.values_list("status").annotate(n=Count("pk"))),
        "not_final": runs.exclude(status__in=FINAL_STATUSES).count(),
        "attempts_over_1": runs.filter(attempts__gt=1).count(),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _child(env: dict[str, str], step: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", step, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _stats(prefix: Path) -> dict[str, Any]:
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open()))

    def figures(row: dict[str, str]) -> dict[str, Any]:
        count = int(row["Request Count"])
        failures = int(row["Failure Count"])
        return {
            "requests": count,
            "failures": failures,
            "error_rate": round(failures / count, 4) if count else 0.0,
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "max_ms": round(float(row["Max Response Time"])),
            "requests_per_second": round(float(row["Requests/s"]), 1),
        }

    return {
        "overall": figures(next(r for r in rows if r["Name"] == "Aggregated")),
        "pages": {
            f"{r['Type']} {r['Name']}": figures(r) for r in rows if r["Name"] != "Aggregated"
        },
    }


def run() -> dict[str, Any]:
    users = int(os.environ.get("LOAD_USERS", "50"))
    seconds = int(os.environ.get("LOAD_SECONDS", "120"))
    web_workers = int(os.environ.get("LOAD_WEB_WORKERS", "3"))
    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    password = secrets.token_urlsafe(12)
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DEBUG"}
    }
    env.update(
        VAR_DIR=str(tmp),
        CELERY_BROKER_DIR=str(tmp / "broker"),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        EXTRA_CONNECTORS="bench=benchmarks.engine.BenchConnector",
        DJANGO_SETTINGS_MODULE="designer.settings",
        PYTHONPATH=str(ROOT),
    )
    setup = _child(env, "--setup", str(users), password)
    from designer.celery import worker_command  # after env: it sets DJANGO_SETTINGS_MODULE

    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "designer.wsgi",
                "--workers",
                str(web_workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=(tmp / "web.log").open("w"),
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            worker_command(
                queue="load", name="load@bench", pool="prefork", concurrency=2, loglevel="WARNING"
            ),
            cwd=ROOT,
            env=env,
            stdout=(tmp / "worker.log").open("w"),
            stderr=subprocess.STDOUT,
        ),
    ]
    host = f"http://127.0.0.1:{port}"
    try:
        _wait_http(host + "/accounts/login/")
        prefix = tmp / "locust"
        locust_env = {
            **env,
            "LOAD_PROJECT_ID": str(setup["project"]),
            "LOAD_OPERATION_IDS": ",".join(map(str, setup["operations"])),
            "LOAD_PASSWORD": password,
            "LOAD_USERS": str(users),
        }
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(HERE / "_locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                "10",
                "--run-time",
                f"{seconds}s",
                "--host",
                host,
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=locust_env,
            check=False,
        )
        figures = _stats(prefix)
        figures["runs_after_load"] = _child(env, "--final")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if not os.environ.get("LOAD_KEEP"):  # LOAD_KEEP=1 keeps the logs and database
            shutil.rmtree(tmp, ignore_errors=True)
    figures["setup"] = {
        "users": users,
        "seconds": seconds,
        "web": f"gunicorn designer.wsgi --workers {web_workers}",
        "worker": "one Celery worker, prefork -c 2",
        "database": "SQLite (WAL), filesystem broker",
        "cpus": os.cpu_count(),
    }
    return figures


def print_table(figures: dict[str, Any]) -> None:
    setup = figures["setup"]
    print(
        f"Load: {setup['users']} users for {setup['seconds']} s on loopback "
        f"({setup['web']}, {setup['worker']}, {setup['database']}, {setup['cpus']} CPUs)"
    )
    print(f"  {'page':<34} {'requests':>9} {'errors':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    for name, f in [*figures["pages"].items(), ("all", figures["overall"])]:
        print(
            f"  {name:<34} {f['requests']:>9} {f['failures']:>7} {f['p50_ms']:>7.0f} "
            f"{f['p95_ms']:>7.0f} {f['max_ms']:>7}"
        )
    overall = figures["overall"]
    print(
        f"  error rate {overall['error_rate']:.2%}, {overall['requests_per_second']} requests/s; "
        f"runs after the load: {figures['runs_after_load']}"
    )


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--setup":
        print(json.dumps(_setup(int(sys.argv[2]), sys.argv[3])))
        return 0
    if len(sys.argv) == 2 and sys.argv[1] == "--final":
        print(json.dumps(_final_counts()))
        return 0
    figures = run()
    print_table(figures)
    merge_results("load", figures)
    overall = figures["overall"]
    final = figures["runs_after_load"]
    ok = overall["failures"] == 0 and final["not_final"] == 0 and final["runs"] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
