"""Run-page bits of issue 16.8: debug samples as JSON, the file a Files target wrote, and
"Run again" only once the run has ended."""

from __future__ import annotations

import html

import pytest

from designer.files.storage import connection_folder
from designer.runs import engine
from designer.runs.models import DebugSample, OperationRun, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.runs.conftest import make_operation

pytestmark = pytest.mark.django_db


def page_of(client, run: OperationRun) -> str:
    return client.get(f"/projects/{run.project_id}/runs/{run.pk}/").content.decode()


def test_debug_samples_are_shown_as_json(project, client_for):
    run = run_start(operation=make_operation(project), trigger=RunTrigger.MANUAL)
    DebugSample.objects.create(
        run=run,
        method="POST",
        url="http://fake.test/records",
        status=201,
        request_body={"email_address": {"address": "a@example.com"}, "opt_in": True},
        response_body={"contact_id": "c-1", "notes": None},
    )
    body = html.unescape(page_of(client_for("viewer"), run))
    assert '"opt_in": true' in body and '"notes": null' in body
    assert "'opt_in': True" not in body and "None" not in body.split("Debug samples")[1]


def test_run_again_is_offered_only_once_the_run_has_ended(project, client_for):
    operation = make_operation(project)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    client = client_for("operator")
    for status in (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED):
        OperationRun.objects.filter(pk=run.pk).update(status=status)
        assert "Run again" not in page_of(client, run), status
    OperationRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCESS)
    assert "Run again" in page_of(client, run)


def test_the_run_page_links_to_the_file_a_files_target_wrote(
    project, client_for, settings, tmp_path
):
    settings.FILES_ROOT = tmp_path / "files"
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    connection_folder(files).mkdir(parents=True)
    source = ActivityFactory(
        connection=files,
        activity_type="inline",
        name="Typed in",
        config={"data": "email,name\na@x.io,Ann\nb@x.io,Bob\n"},
    )
    target = ActivityFactory(
        connection=files,
        activity_type="write",
        name="Out",
        config={"file_name": "out-{run_id}.csv", "format": "csv"},
    )
    operation = OperationFactory(
        project=project,
        source=source,
        target=target,
        transformation=TransformationFactory(
            project=project, mapping=[{"target": "email", "kind": "path", "value": "email"}]
        ),
    )
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    run = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert run.status == RunStatus.SUCCESS, run.message
    assert run.output_file == f"out-{run.pk}.csv"
    client = client_for("viewer")
    url = f"/projects/{project.pk}/files/{files.pk}/download/out-{run.pk}.csv"
    assert f'href="{url}"' in page_of(client, run)
    download = client.get(url)
    assert b"".join(download.streaming_content).decode().splitlines() == [
        "email",
        "a@x.io",
        "b@x.io",
    ]
