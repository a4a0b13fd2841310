"""Multi-step operations (issue 11): what steps cost the engine.

    .venv/bin/python -m benchmarks.chains

One 20,000-record run per chain shape, executed by the engine in one process (no broker
round trip: the figure is the engine's own work), on a fresh SQLite database, with the
benchmark connector of benchmarks.engine (a target failing 1% of records, as rows):

* three steps: source -> mapping -> target (the shape every operation had before steps);
* five steps: source -> mapping -> target (response) -> response mapping -> target;
* script and condition: source -> script (3 lines) -> condition routing to two targets.

Records per second from start to end of each run; the stage a five-step batch stores before
its second target is part of the figure. Figures go to benchmarks/results.json, "chains".
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

from benchmarks.common import child_env, merge_results, run_child

RECORDS = 20_000


def _child() -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    from designer.design import operations
    from designer.design.models import Activity, Connection, Operation, Transformation
    from designer.projects.models import Project
    from designer.runs import engine
    from designer.runs.services import run_start

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="Chains")
    connection = Connection.objects.create(project=project, connector_key="bench", name="B")

    def activity(name: str, kind: str, **config: Any) -> Activity:
        return Activity.objects.create(
            project=project, connection=connection, activity_type=kind, name=name, config=config
        )

    def mapping(name: str, rules: list[dict]) -> Transformation:
        return Transformation.objects.create(project=project, name=name, mapping=rules)

    to_contact = [
        {"target": "email_address.address", "kind": "path", "value": "email"},
        {"target": "first_name", "kind": "path", "value": "first_name"},
        {"target": "id", "kind": "path", "value": "id"},
    ]
    from_response = [
        {"target": "id", "kind": "path", "value": "record.id"},
        {"target": "outcome", "kind": "expression", "value": "action or error_key"},
    ]

    def chain(name: str, steps: list[tuple[str, dict[str, Any]]]) -> Operation:
        operation = Operation.objects.create(project=project, name=name)
        for kind, fields in steps:
            operation.refresh_from_db()
            operations.step_insert(operation=operation, user=None, kind=kind, **fields)
        return operation

    source = activity("numbers", "numbers", count=RECORDS)
    shapes = {
        "three_steps": [
            ("source", {"activity": source}),
            ("transformation", {"transformation": mapping("to contact", to_contact)}),
            ("target", {"activity": activity("discard", "discard")}),
        ],
        "five_steps": [
            ("source", {"activity": source}),
            ("transformation", {"transformation": mapping("to contact 2", to_contact)}),
            ("target", {"activity": activity("discard 2", "discard")}),
            ("transformation", {"transformation": mapping("response", from_response)}),
            ("target", {"activity": activity("discard 3", "discard")}),
        ],
    }
    figures: dict[str, Any] = {"records": RECORDS}
    for name, steps in shapes.items():
        figures[name] = _measure(engine, run_start, chain(name, steps))
    operation = chain(
        "script_condition",
        [
            ("source", {"activity": source}),
            (
                "script",
                {
                    "config": {
                        "script": "email = email | lower\nname = first_name ~ ' ' ~ id\n"
                        "skip if id % 1000 == 0"
                    }
                },
            ),
            ("condition", {"config": {"expression": "id % 2 == 0", "mode": "route"}}),
        ],
    )
    condition = operation.steps.get(kind="condition")
    for branch in ("true", "false"):
        operation.refresh_from_db()
        operations.step_insert(
            operation=operation,
            user=None,
            kind="target",
            activity=activity(f"discard {branch}", "discard"),
            parent=condition,
            branch=branch,
        )
    figures["script_condition"] = _measure(engine, run_start, operation)
    return figures


def _measure(engine, run_start, operation) -> dict[str, Any]:
    run = run_start(operation=operation, trigger="command")
    run = engine.execute(run_id=run.pk, agent_name="bench@chains")
    assert run.status in ("success", "warning"), run.message
    seconds = (run.ended_at - run.started_at).total_seconds()
    return {
        "steps": len(run.step_counts),
        "seconds": round(seconds, 2),
        "records_per_second": round(run.source_records / seconds),
        "written": run.target_records,
        "failed_rows": run.failed_records,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-chains-") as tmp:
        env = child_env(tmp, RUNS_HEARTBEAT_SECONDS="5")
        return run_child("benchmarks.chains", env, timeout=1200)


def main() -> int:
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(_child()))
        return 0
    figures = run()
    print(f"Step chains, one {figures['records']:,}-record run each, engine in one process")
    for name in ("three_steps", "five_steps", "script_condition"):
        f = figures[name]
        print(
            f"  {name:<18} {f['steps']} steps: {f['seconds']} s, {f['records_per_second']:,} "
            f"records/s, {f['written']:,} written, {f['failed_rows']} failure rows"
        )
    merge_results("chains", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
