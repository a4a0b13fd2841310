"""Multi-step operations on the fake connector, built through the step services."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from designer.crypto import encrypt_json
from designer.design import operations
from designer.design.models import Step
from tests.factories import ActivityFactory, ConnectionFactory
from tests.runs.conftest import SECRET, make_operation


def sink(project, ledger: Path, **config):
    """A sink target on its own connection, writing to its own ledger file."""
    connection = ConnectionFactory(
        project=project,
        connector_key="fake",
        config={"ledger": str(ledger)},
        secrets_encrypted=encrypt_json({"api_key": SECRET}),
    )
    return ActivityFactory(
        connection=connection,
        activity_type="sink",
        config={"batch": 100, "fail_every": 0, "delay": 0, "mode": "", **config},
    )


def chain(project, tmp_path: Path, *, count: int = 10, **kwargs):
    """source -> transformation -> target A (ledger "a"); returns (operation, steps by name)."""
    operation = make_operation(project, count=count, ledger=tmp_path / "a", **kwargs)
    steps = {s.kind: s for s in Step.objects.filter(operation=operation)}
    return operation, steps


def add(operation, kind: str, **fields) -> Step:
    operation.refresh_from_db()
    return operations.step_insert(operation=operation, user=None, kind=kind, **fields)


def ledger_counts(path: Path) -> Counter:
    return Counter(path.read_text().splitlines()) if path.exists() else Counter()


def counts(run, step: Step) -> tuple[int, int, int]:
    row = run.step_counts[str(step.pk)]
    return row["in"], row["out"], row["failed"]
