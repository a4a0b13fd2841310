"""On real Celery workers against the Constant Contact sandbox: two projects run their own
activities on one global endpoint (issue 12); the expired token is refreshed once and written
back to the global endpoint's row; no secret reaches either run's log; and the two projects'
runs, in four worker processes, are paced together within the account's rate limit."""

from __future__ import annotations

import pytest

from designer.crypto import decrypt_json
from designer.design.models import Activity
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    ProjectFactory,
    TransformationFactory,
)
from tests.fixtures.sandbox import CC_CLIENT_ID, CC_CLIENT_SECRET, cc_connection
from tests.runs.conftest import (  # noqa: F401  (fixtures)
    fake_connector,
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
    shared = cc_connection(
        None, cc_sandbox, cc_tokens, expires_in=-60, is_global=True, shared_with_all=True
    )
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


RUNS, CONTACTS, PAGE = 4, 18, 2  # 2 runs a project x 9 pages = 36 calls on one key: about 9 s


@pytest.mark.usefixtures("fake_connector")
def test_two_projects_paced_together(project, workers, cc_sandbox, cc_tokens, tmp_path):  # noqa: F811
    """As tests/reliability/test_cc_pacing_workers.py for one project: the strict sandbox
    counts at most 4 calls in any sliding second and no 429, with half the runs from each
    project (the pacing is keyed by the account, whichever project runs)."""
    cc_sandbox.configure(rate_limit=4, sliding_window=True)
    cc_sandbox.seed_contacts(CONTACTS)
    queue = new_queue()
    other = ProjectFactory(name="Other team", agent_group=queue)
    project.agent_group = queue
    project.save()
    shared = cc_connection(None, cc_sandbox, cc_tokens, is_global=True, shared_with_all=True)
    operations = []
    for n in range(RUNS):
        owner = project if n % 2 else other
        sink = ConnectionFactory(project=owner, connector_key="fake", name=f"Sink {n}", config={})
        operations.append(
            OperationFactory(
                project=owner,
                name=f"Read contacts {n}",
                source=Activity.objects.create(
                    project=owner,
                    connection=shared,
                    activity_type="query",
                    name=f"Contacts {n}",
                    config={"page_size": PAGE},
                ),
                target=ActivityFactory(connection=sink, activity_type="sink", config={}),
            )
        )
    env = {
        "CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url,
        "CONNECTOR_STATE_DIR": str(tmp_path),  # the embedded default's shared folder
        "CONNECTOR_RATE_LIMIT_SPEEDUP": "1",  # the real pace (the tests' workers go faster)
    }
    workers.start_many([queue] * RUNS, extra_env=env)  # 4 processes, one run each
    runs = [run_start(operation=op, trigger=RunTrigger.MANUAL) for op in operations]
    for run in runs:
        wait_final(run, timeout=120)
        lines = list(run.log_lines.values_list("message", flat=True))
        assert run.status == RunStatus.SUCCESS, (run.message, lines[-5:])
        assert run.source_records == CONTACTS
    assert {run.project_id for run in runs} == {project.pk, other.pk}
    measured = cc_sandbox.rate_measured()["keys"][CC_CLIENT_ID]
    assert measured["calls"] == RUNS * CONTACTS // PAGE
    assert measured["http_429"] == 0, measured
    assert measured["max_in_any_second"] <= 4, measured
