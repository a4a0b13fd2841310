"""The designer page with 5 and with 200 operations: SQL queries and server render time.

    .venv/bin/python -m benchmarks.designer

In a child process with a fresh SQLite database (a temporary VAR_DIR; nothing touches var/):
two projects, one of 5 and one of 200 operations in one workflow, each operation with three
steps (source, transformation, target), a last run, and an On Success arrow to the next one.
For the full designer page and for the board alone (the canvas pane, what a tab switch
loads), it counts the SQL queries of one request and times the server's answer (Django's test
client: view and templates, no network), median of RUNS after a warm-up.

The issue's bar (issue 11): the same number of queries for 5 and 200 operations, and the
render time of 200 within 2x that of 5. Prints a table, merges the figures into
benchmarks/results.json under "designer", and exits 1 when the bar is missed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from benchmarks.common import merge_results

SIZES = (5, 200)
RUNS = 15
RATIO_BAR = 2.0


def _project(size: int, user: Any) -> int:
    from designer.design.models import (
        Activity,
        Connection,
        Operation,
        Step,
        Transformation,
        Workflow,
    )
    from designer.projects.models import Membership, Project, Role
    from designer.runs.models import OperationRun, RunStatus

    project = Project.objects.create(name=f"Bench {size}")
    Membership.objects.create(project=project, user=user, role=Role.EDITOR)
    workflow = Workflow.objects.get_or_create(project=project, name="Workflow 1")[0]
    connection = Connection.objects.create(
        project=project, connector_key="files", name="Files", config={}
    )
    read = Activity.objects.create(
        project=project, connection=connection, activity_type="read", name="Read"
    )
    write = Activity.objects.create(
        project=project, connection=connection, activity_type="write", name="Write"
    )
    previous = None
    for n in range(size):
        mapping = Transformation.objects.create(project=project, name=f"Map {n}")
        op = Operation.objects.create(
            project=project,
            workflow=workflow,
            name=f"Operation {n}",
            position_x=40 + (n % 10) * 700,
            position_y=40 + (n // 10) * 220,
        )
        Step.objects.filter(operation=op).delete()
        Step.objects.bulk_create(
            [
                Step(operation=op, position=0, kind="source", activity=read),
                Step(operation=op, position=1, kind="transformation", transformation=mapping),
                Step(operation=op, position=2, kind="target", activity=write),
            ]
        )
        OperationRun.objects.create(project=project, operation=op, status=RunStatus.SUCCESS)
        if previous is not None:
            Operation.objects.filter(pk=previous.pk).update(on_success=op)
        previous = op
    return project.pk


def _measure(client: Any, url: str) -> dict[str, Any]:
    from django.db import connection

    start = time.perf_counter()
    client.get(url)  # the first: templates loaded, every card rendered and cached
    cold = time.perf_counter() - start
    queries = []

    def count(execute, sql, params, many, context):  # every query, across reconnections
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - start)
    return {
        "queries": len(queries),
        "ms": round(statistics.median(times) * 1000, 1),
        "first_ms": round(cold * 1000, 1),
        "kb": round(len(response.content) / 1024, 1),
    }


def _child() -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    # The test client's host, without setup_test_environment(): that one makes every template
    # render keep a copy of its context, which is not what the page costs.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create(username="bench")
    client = Client()
    client.force_login(user)
    figures: dict[str, Any] = {}
    for size in SIZES:
        pk = _project(size, user)
        figures[f"page_{size}"] = _measure(client, reverse("design:designer", args=[pk]))
        figures[f"board_{size}"] = _measure(client, reverse("design:pane", args=[pk, "canvas"]))
    return figures


def main() -> int:
    if os.environ.get("BENCH_DESIGNER_CHILD"):
        print(json.dumps(_child()))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "BENCH_DESIGNER_CHILD": "1",
            "VAR_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "DJANGO_SETTINGS_MODULE": "designer.settings",
            "DEBUG": "0",
        }
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.designer"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        print(out.stdout, out.stderr, sep="\n")
        return 1
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    small, large = SIZES
    verdicts = {}
    print(f"{'':8} {'operations':>10} {'queries':>8} {'render ms':>10} {'first ms':>9} {'KB':>7}")
    for what in ("page", "board"):
        for size in SIZES:
            row = figures[f"{what}_{size}"]
            print(
                f"{what:8} {size:>10} {row['queries']:>8} {row['ms']:>10} "
                f"{row['first_ms']:>9} {row['kb']:>7}"
            )
        a, b = figures[f"{what}_{small}"], figures[f"{what}_{large}"]
        ratio = round(b["ms"] / a["ms"], 2)
        ok = a["queries"] == b["queries"] and ratio <= RATIO_BAR
        verdicts[what] = {"equal_queries": a["queries"] == b["queries"], "ratio": ratio, "ok": ok}
        print(
            f"{what}: queries {a['queries']} vs {b['queries']}, "
            f"render {large} / {small} = {ratio}x (bar {RATIO_BAR}x): {'ok' if ok else 'MISSED'}"
        )
    merge_results("designer", {**figures, "verdicts": verdicts, "runs": RUNS})
    return 0 if all(v["ok"] for v in verdicts.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
