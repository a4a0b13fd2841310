"""Query -> Delete against the Constant Contact sandbox, on a real worker process."""

from __future__ import annotations

import pytest

from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import (
    ActivityFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.fixtures.sandbox import cc_connection
from tests.runs.conftest import new_queue, wait_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_query_to_delete_on_a_worker(project, workers, cc_sandbox, cc_tokens):
    cc_sandbox.seed_contacts(6)
    queue = new_queue()
    project.agent_group = queue
    project.save()
    connection = cc_connection(project, cc_sandbox, cc_tokens)
    query = ActivityFactory(connection=connection, activity_type="query", config={})
    delete = ActivityFactory(
        connection=connection,
        activity_type="delete",
        config={"match_by": "contact_id", "mode": "single"},
    )
    operation = OperationFactory(
        project=project,
        source=query,
        target=delete,
        transformation=TransformationFactory(
            project=project,
            mapping=[{"target": "contact_id", "kind": "path", "value": "contact_id"}],
        ),
    )
    workers.start(queue, extra_env={"CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url})
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=60)
    assert run.status == RunStatus.SUCCESS, (
        run.message,
        list(run.log_lines.values_list("message", flat=True)),
    )
    assert (run.source_records, run.target_records, run.failed_records) == (6, 6, 0)
    assert run.required_connectors == {"constant_contact": "1.0.0"}
    deletes = [r for r in cc_sandbox.api_requests() if r.method == "DELETE"]
    assert len(deletes) == 6
    assert run.http_requests >= 7  # one page of contacts and six deletes
    # A second pass finds nothing left to delete.
    again = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=60)
    assert again.status == RunStatus.SUCCESS and again.source_records == 0
