"""Fixtures for the fault tests: real worker processes (tests/runs/conftest.py), the Constant
Contact sandbox over HTTP, and operations whose every input record can be accounted for.

``cc_operation(count=, page=, delay=, ...)``: the fake connector's ``generate`` source (records
r0@example.com ... paced by ``delay`` seconds a page) -> mapping -> Constant Contact Create, on
a worker of its own queue. The sandbox then holds what was really created, so "done once or
reported failed" is checked against the far side, not against our own counters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from designer.design.models import Connection
from designer.runs.models import OperationRun
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.fixtures.sandbox import cc_connection
from tests.runs.conftest import (  # noqa: F401  (fixtures)
    fake_connector,
    make_operation,
    new_queue,
    worker_env,
    workers,
)

MAPPING = [
    {"target": "email_address.address", "kind": "path", "value": "email"},
    {"target": "first_name", "kind": "path", "value": "name"},
]


@pytest.fixture
def cc_operation(project, workers, cc_sandbox, cc_tokens) -> Callable[..., object]:  # noqa: F811
    """Build generate -> Create operations on one worker queue; start the worker on first use
    (``worker_env`` extra variables allowed, e.g. a short HTTP time-out)."""
    queue = new_queue()
    project.agent_group = queue
    project.save()
    state: dict[str, object] = {}

    def build(
        *,
        count: int,
        page: int = 10,
        delay: float = 0.0,
        worker_env_extra: dict[str, str] | None = None,
        workers_count: int = 1,
        connection: Connection | None = None,
        name: str = "Generate to contacts",
    ):
        if "connection" not in state:
            state["connection"] = connection or cc_connection(project, cc_sandbox, cc_tokens)
        cc = connection or state["connection"]
        source_connection = ConnectionFactory(project=project, connector_key="fake", config={})
        source = ActivityFactory(
            connection=source_connection,
            activity_type="generate",
            config={"count": count, "page": page, "delay": delay},
        )
        target = ActivityFactory(
            connection=cc,
            activity_type="create",
            name=f"Create ({name})",
            config={"mode": "single", "create_source": "Account", "on_duplicate": "fail"},
        )
        if "workers" not in state:
            env = {"CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url, **(worker_env_extra or {})}
            state["workers"] = workers.start_many([queue] * workers_count, extra_env=env)
        return OperationFactory(
            project=project,
            name=name,
            source=source,
            target=target,
            transformation=TransformationFactory(project=project, mapping=MAPPING),
        )

    build.queue = queue  # type: ignore[attr-defined]
    build.state = state  # type: ignore[attr-defined]
    return build


def account_for(run: OperationRun, sandbox, count: int) -> dict[str, object]:
    """Check "every input record is done once or reported failed" against the sandbox."""
    emails = [f"r{i}@example.com" for i in range(count)]
    created = Counter((c.get("email_address") or {}).get("address") for c in sandbox.contacts)
    failed = dict(run.failures.values_list("key", "error_key"))
    assert max(created.values(), default=0) <= 1, "a contact was created twice"
    done = {e for e in emails if created.get(e)}
    assert done | set(failed) == set(emails), "an input record is neither created nor failed"
    assert not (done & set(failed)), "a record reported failed was created after all"
    assert run.source_records == count
    assert (run.target_records, run.failed_records) == (len(done), len(failed))
    return {"created": len(done), "failed": failed}


def log_of(run: OperationRun) -> list[str]:
    return list(run.log_lines.order_by("pk").values_list("message", flat=True))
