"""Contacts' tracking activity fed by a previous step (issue 14), on a real Celery worker
against the sandbox: an inline table of contact ids -> transformation -> "Look up contacts'
tracking activity" (a target whose response flows on) -> transformation -> a JSON Lines
file. Each contact's activity arrives, every page read; an unknown contact fails alone."""

from __future__ import annotations

import json

import pytest

from designer.design.models import Step, StepKind, Transformation
from designer.files.storage import connection_folder
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from designer.transformations.selectors import editor_data
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.fixtures.sandbox import CC_CLIENT_ID, cc_connection
from tests.runs.chains import add, counts
from tests.runs.conftest import new_queue, wait_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def test_tracking_activity_looked_up_for_the_previous_steps_contacts(
    project, workers, cc_sandbox, settings, tmp_path
):
    settings.FILES_ROOT = tmp_path / "files"
    cc_sandbox.seed_contacts(5)
    ids = [c["contact_id"] for c in cc_sandbox.contacts]
    queue = new_queue()
    project.agent_group = queue
    project.save()
    scopes = ("contact_data", "campaign_data", "account_read", "offline_access")
    cc = cc_connection(project, cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID, scopes))
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    connection_folder(files).mkdir(parents=True)
    table = "contact_id\n" + "\n".join([ids[1], MISSING, ids[3]]) + "\n"
    operation = OperationFactory(
        project=project,
        source=ActivityFactory(connection=files, activity_type="inline", config={"data": table}),
        target=ActivityFactory(
            connection=cc,
            activity_type="reports_contact_activity_lookup",
            config={"page_size": 2, "tracking_activities": ["em_sends", "em_opens"]},
        ),
        transformation=TransformationFactory(
            project=project,
            mapping=[{"target": "contact_id", "kind": "path", "value": "contact_id"}],
        ),
    )
    lookup = Step.objects.get(operation=operation, kind=StepKind.TARGET)
    after = add(operation, "transformation")
    Transformation.objects.filter(pk=after.transformation_id).update(
        mapping=[
            {"target": "contact_id", "kind": "path", "value": "response.contact_id"},
            {"target": "activities", "kind": "path", "value": "response.tracking_activities"},
            {
                "target": "count",
                "kind": "expression",
                "value": "response.tracking_activities|length",
            },
        ]
    )
    # The mapping editor offers the response's fields to the step after the lookup.
    paths = {
        f.path
        for f in editor_data(Transformation.objects.get(pk=after.transformation_id)).source.fields
    }
    assert {"response.contact_id", "response.tracking_activities", "record.contact_id"} <= paths
    written = add(
        operation,
        "target",
        activity=ActivityFactory(
            connection=files,
            activity_type="write",
            config={"file_name": "tracking.jsonl", "format": "jsonl", "if_exists": "replace"},
        ),
    )
    workers.start(
        queue,
        extra_env={
            "CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url,
            "FILES_ROOT": str(settings.FILES_ROOT),
        },
    )
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=90)
    assert run.status == RunStatus.WARNING, (
        run.message,
        list(run.log_lines.values_list("message", flat=True)),
    )
    assert (run.source_records, run.target_records, run.failed_records) == (3, 2, 1)
    assert counts(run, lookup) == (3, 2, 1) and counts(run, written) == (2, 2, 0)
    (failure,) = run.failures.all()
    assert failure.step_id == lookup.pk and failure.error_message == f"Contact {MISSING} not found."

    lines = (connection_folder(files) / "tracking.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["contact_id"] for r in rows] == [ids[1], ids[3]]
    for row in rows:
        assert row["count"] == len(row["activities"]) >= 3  # more than one page of 2
        assert {a["tracking_activity_type"] for a in row["activities"]} <= {"em_sends", "em_opens"}
        assert all(a["contact_id"] == row["contact_id"] for a in row["activities"])
    calls = [r for r in cc_sandbox.api_requests() if ids[1] in r.path]
    assert len(calls) == -(-rows[0]["count"] // 2)  # every page, by _links.next
