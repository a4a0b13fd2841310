"""Bad input end to end: one CSV file with every kind of bad row, read by the Files
connector on a worker and created in Constant Contact (the sandbox). Each bad row fails on
its own with a clear per-record error; every good row is created; nothing else is lost.

The per-area tests go deeper (tests/connectors/files/test_read.py: encodings, quoting,
ragged rows, size and row limits, empty files; tests/transformations/test_mapping.py:
failing expressions; tests/connectors/constant_contact/test_targets.py: contract
validation, duplicates; tests/transformations/test_pipelines.py: an empty file and a file
over the size limit end their runs with a message naming the file).
"""

from __future__ import annotations

import pytest

from designer.files.storage import connection_folder
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.fixtures.sandbox import cc_connection
from tests.reliability.conftest import log_of
from tests.runs.conftest import new_queue, wait_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

UNKNOWN = "0b7e9a0c-0000-4000-8000-000000000000"
MAX_FILE_BYTES = 100_000


@pytest.fixture
def pipeline(project, workers, cc_sandbox, cc_tokens, settings, tmp_path):
    settings.FILES_ROOT = tmp_path / "files"
    queue = new_queue()
    project.agent_group = queue
    project.save()
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    folder = connection_folder(files)
    folder.mkdir(parents=True)
    workers.start(
        queue,
        extra_env={
            "CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url,
            "FILES_ROOT": str(settings.FILES_ROOT),
            "FILES_MAX_FILE_BYTES": str(MAX_FILE_BYTES),
        },
    )
    return {
        "files": files,
        "folder": folder,
        "cc": cc_connection(project, cc_sandbox, cc_tokens),
    }


def _csv(list_id: str, field_id: str) -> tuple[bytes, dict[int, str]]:
    """20 data rows; the bad ones by row index, with the error key each must fail with."""
    lines = [b"Email,First,Lists,FieldId,FieldValue,Month"]
    bad: dict[int, str] = {}
    for i in range(20):
        email, first, lists, field, month = f"c{i}@example.com", f"F{i}", list_id, field_id, "3"
        raw = None
        if i == 2:
            first, bad[i] = "x" * 51, "validation"  # over the contract's maxLength (50)
        elif i == 4:
            lists, bad[i] = UNKNOWN, "unknown_list"  # a list that does not exist
        elif i == 6:
            field, bad[i] = UNKNOWN, "unknown_custom_field"  # a custom field that does not
        elif i == 8:
            raw, bad[i] = f"{email},{first}".encode(), "unreadable"  # ragged: 2 of 6 values
        elif i == 10:
            raw = f'{email},"F10"x,{lists},{field},blue,3'.encode()  # bad quoting
            bad[i] = "unreadable"
        elif i == 12:
            raw = f"{email},Jos\xe9,{lists},{field},blue,3".encode("latin-1")  # not UTF-8
            bad[i] = "unreadable"
        elif i == 14:
            month, bad[i] = "November", "mapping_error"  # the expression fails on it
        elif i == 16:
            email, bad[i] = "c16.example.com", "validation"  # not an email address
        lines.append(raw or f"{email},{first},{lists},{field},blue,{month}".encode())
    return b"\n".join(lines) + b"\n", bad


def test_every_bad_row_fails_alone_with_a_clear_error(pipeline, cc_sandbox, project):
    list_id = cc_sandbox.list_id("Newsletter")
    field_id = next(
        f["custom_field_id"] for f in cc_sandbox.custom_fields if f["label"] == "Favorite Color"
    )
    data, bad = _csv(list_id, field_id)
    (pipeline["folder"] / "contacts.csv").write_bytes(data)
    source = ActivityFactory(
        connection=pipeline["files"],
        activity_type="read",
        name="Contacts CSV",
        config={"file_name": "contacts.csv"},
    )
    target = ActivityFactory(
        connection=pipeline["cc"],
        activity_type="create",
        name="Create",
        config={"mode": "single", "create_source": "Account", "on_duplicate": "fail"},
    )
    mapping = [
        {"target": "email_address.address", "kind": "path", "value": "Email"},
        {"target": "first_name", "kind": "path", "value": "First"},
        {"target": "list_memberships", "kind": "expression", "value": "Lists | split(',')"},
        {"target": "custom_fields.0.custom_field_id", "kind": "path", "value": "FieldId"},
        {"target": "custom_fields.0.value", "kind": "path", "value": "FieldValue"},
        {"target": "birthday_month", "kind": "expression", "value": "Month | to_int"},
        {"target": "birthday_day", "kind": "constant", "value": 1},
    ]
    operation = OperationFactory(
        project=project,
        source=source,
        target=target,
        transformation=TransformationFactory(project=project, mapping=mapping),
    )
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=120)

    assert run.status == RunStatus.WARNING, (run.message, log_of(run)[-5:])
    assert (run.source_records, run.target_records, run.failed_records) == (20, 12, 8)
    failures = {f.index: f for f in run.failures.all()}
    assert set(failures) == set(bad)
    for index, kind in bad.items():
        failure = failures[index]
        text = f"{failure.error_key}: {failure.error_message}"
        assert failure.error_message, index
        if kind == "unreadable":
            assert f"contacts.csv line {index + 2}" in failure.error_message, text
        elif kind == "mapping_error":
            assert failure.error_key == "mapping_error" and "birthday_month" in text, text
        elif kind == "unknown_list":
            assert UNKNOWN in text and "list" in text.lower(), text
        elif kind == "unknown_custom_field":
            assert UNKNOWN in text and "custom field" in text.lower(), text
        else:
            assert failure.error_key == "validation", text
        assert failure.record is not None  # kept for the download and Re-run
    assert failures[2].error_message == "first_name: 51 characters, too long (the maximum is 50)"
    created = sorted(c["email_address"]["address"] for c in cc_sandbox.contacts)
    expected = sorted(f"c{i}@example.com" for i in range(20) if i not in bad)
    assert created == expected


def test_a_file_over_the_size_limit_and_an_empty_file_end_with_a_clear_error(pipeline, project):
    folder = pipeline["folder"]
    (folder / "empty.csv").write_bytes(b"")
    (folder / "huge.csv").write_bytes(b"email\n" + b"someone@example.com\n" * 6_000)
    writer = ActivityFactory(
        connection=pipeline["files"],
        activity_type="write",
        name="Out",
        config={"file_name": "out.jsonl", "format": "jsonl"},
    )
    for name, expected in (
        ("empty.csv", "empty.csv is empty"),
        ("huge.csv", f"over the limit of {MAX_FILE_BYTES:,} bytes"),
    ):
        reader = ActivityFactory(
            connection=pipeline["files"],
            activity_type="read",
            name=name,
            config={"file_name": name},
        )
        operation = OperationFactory(
            project=project,
            source=reader,
            target=writer,
            transformation=TransformationFactory(project=project, mapping=[]),
        )
        run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=60)
        assert run.status == RunStatus.ERROR and expected in run.message, run.message
        assert run.source_records == 0 and not (folder / "out.jsonl").exists()
