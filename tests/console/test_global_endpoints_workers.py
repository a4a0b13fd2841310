"""On a real Celery worker against the Constant Contact sandbox: two projects run their own
activities on one global endpoint (issue 12); the expired token is refreshed once and written
back to the global endpoint's row; no secret reaches either run's log."""

from __future__ import annotations

import pytest

from designer.crypto import decrypt_json
from designer.design.models import Activity
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import OperationFactory, ProjectFactory, TransformationFactory
from tests.fixtures.sandbox import CC_CLIENT_SECRET, cc_connection
from tests.runs.conftest import (  # noqa: F401  (fixtures)
    new_queue,
    wait_final,
    worker_env,
    workers,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def query_to_delete(project, shared):
    """Project-owned Query -> Delete activities on the global endpoint, in one operation."""
    query = Activity.objects.create(
        project=project, connection=shared, activity_type="query", name="All contacts"
    )
    delete = Activity.objects.create(
        project=project,
        connection=shared,
        activity_type="delete",
        name="Delete",
        config={"match_by": "contact_id", "mode": "single"},
    )
    return OperationFactory(
        project=project,
        source=query,
        target=delete,
        transformation=TransformationFactory(
            project=project,
            mapping=[{"target": "contact_id", "kind": "path", "value": "contact_id"}],
        ),
    )


def test_two_projects_run_on_one_global_endpoint(project, workers, cc_sandbox, cc_tokens):  # noqa: F811
    cc_sandbox.seed_contacts(4)
    queue = new_queue()
    other = ProjectFactory(name="Other team", agent_group=queue)
    project.agent_group = queue
    project.save()
    # Authorised, with an access token already expired: the first call refreshes it.
    shared = cc_connection(None, cc_sandbox, cc_tokens, expires_in=-60, is_global=True)
    first = query_to_delete(project, shared)
    second = query_to_delete(other, shared)
    workers.start(queue, extra_env={"CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url})

    run = wait_final(run_start(operation=first, trigger=RunTrigger.MANUAL), timeout=60)
    lines = list(run.log_lines.values_list("message", flat=True))
    assert run.status == RunStatus.SUCCESS, (run.message, lines)
    assert (run.source_records, run.target_records, run.failed_records) == (4, 4, 0)
    # The refreshed tokens went back to the global endpoint's own row.
    stored = decrypt_json(type(shared).objects.get(pk=shared.pk).secrets_encrypted)
    assert stored["access_token"] != cc_tokens["access_token"]

    again = wait_final(run_start(operation=second, trigger=RunTrigger.MANUAL), timeout=60)
    other_lines = list(again.log_lines.values_list("message", flat=True))
    assert again.status == RunStatus.SUCCESS, (again.message, other_lines)
    assert again.project_id == other.pk and again.source_records == 0  # the first deleted all
    text = "\n".join(lines + other_lines + [run.message, again.message])
    for secret in (CC_CLIENT_SECRET, stored["access_token"], stored["refresh_token"]):
        assert secret not in text
