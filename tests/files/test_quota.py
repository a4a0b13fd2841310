"""Issue 17.12 (Files part): a per-project Files quota (FILES_PROJECT_QUOTA_BYTES) over all the
project's Files connections, with clear errors on upload and at run time."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from designer.files.storage import connection_extras, connection_folder
from designer.runs import engine
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    ProjectFactory,
)


@pytest.fixture
def drops(project):
    return (
        ConnectionFactory(project=project, connector_key="files", name="Drop A"),
        ConnectionFactory(project=project, connector_key="files", name="Drop B"),
    )


def _upload(client, connection, name: str, size: int):
    upload = SimpleUploadedFile(name, b"x" * size, "text/csv")
    url = f"/projects/{connection.project_id}/files/{connection.pk}/upload/"
    return client.post(url, {"file": upload}, follow=True).content.decode()


def test_an_upload_over_the_projects_quota_is_refused_and_leaves_nothing(
    client_for, drops, settings
):
    settings.FILES_PROJECT_QUOTA_BYTES = 1000
    first, second = drops
    client = client_for("editor")
    assert "Uploaded a.csv" in _upload(client, first, "a.csv", 600)
    page = _upload(client, second, "b.csv", 600)  # the quota counts every Files connection
    assert "would use 1.2 KB, over its Files quota of 1,000 bytes" in page
    assert os.listdir(connection_folder(second)) == []  # no temporary file left behind
    # Replacing a file frees its own size first.
    assert "Replaced a.csv" in _upload(client, first, "a.csv", 900)
    # Another project has a quota of its own.
    other = ConnectionFactory(project=ProjectFactory(), connector_key="files", name="Elsewhere")
    assert connection_extras(other)["project_folders"] == [str(connection_folder(other))]


def test_the_files_page_shows_the_quota_in_use(client_for, drops, settings):
    settings.FILES_PROJECT_QUOTA_BYTES = 10_000
    first, _ = drops
    _upload(client_for("editor"), first, "a.csv", 2048)
    page = client_for("viewer").get(f"/projects/{first.project_id}/files/{first.pk}/")
    assert "2.0 KB of the project&#x27;s 9.8 KB Files quota in use" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_run_writing_past_the_quota_fails_those_records_with_a_clear_message(
    project, drops, settings
):
    settings.FILES_PROJECT_QUOTA_BYTES = 400
    first, second = drops
    folder = connection_folder(second)
    folder.mkdir(parents=True)
    (folder / "old.csv").write_bytes(b"x" * 250)  # 150 bytes of room left
    rows = "\n".join(f"user{i:02d}@example.com" for i in range(20))
    source = ActivityFactory(
        connection=first, activity_type="inline", name="In", config={"data": "email\n" + rows}
    )
    target = ActivityFactory(
        connection=first, activity_type="write", name="Out", config={"file_name": "out.csv"}
    )
    operation = OperationFactory(project=project, source=source, target=target)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    done = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert done.status == RunStatus.WARNING, done.message
    written = (connection_folder(first) / "out.csv").read_bytes()
    assert len(written) + 250 <= 400
    failures = list(done.failures.all())
    assert failures and done.target_records == 20 - len(failures)
    assert {f.error_key for f in failures} == {"files_quota"}
    assert "the project's Files quota of 400 bytes" in failures[0].error_message
    log = list(done.log_lines.values_list("message", flat=True))
    assert any(f"{len(failures)} record(s) not written" in line for line in log), log
