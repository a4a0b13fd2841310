"""Real pipelines, end to end: Files <-> Constant Contact through a Celery worker process and
the sandbox over HTTP. The worker reads and writes the connection's folder the UI manages.

* 1,000 contacts from a CSV (invalid emails, duplicates, missing fields, ragged rows) through
  Create: exact done / failed counts, and the failed records downloadable.
* Query to a CSV file and back: the file's emails through Delete, then the file through
  Create restores the contacts.
* A hand-written CSV of emails through Delete.
* Inline data to a JSON Lines file; an empty file and a file over the size limit end their
  runs in Error with a message naming the file.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from designer.files.storage import connection_folder
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from designer.transformations.validation import has_errors, validate_mapping
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.fixtures.sandbox import cc_connection
from tests.runs.conftest import new_queue, wait_final, worker_env, workers  # noqa: F401

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
MAX_FILE_BYTES = 200_000  # the worker's FILES_MAX_FILE_BYTES


@pytest.fixture
def setup(project, workers, cc_sandbox, cc_tokens, settings, tmp_path):  # noqa: F811
    """A worker on the project's queue sharing FILES_ROOT, a CC and a Files connection."""
    settings.FILES_ROOT = tmp_path / "files"
    queue = new_queue()
    project.agent_group = queue
    project.save()
    cc = cc_connection(project, cc_sandbox, cc_tokens)
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    workers.start(
        queue,
        extra_env={
            "CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url,
            "FILES_ROOT": str(settings.FILES_ROOT),
            "FILES_MAX_FILE_BYTES": str(MAX_FILE_BYTES),
        },
    )
    folder = connection_folder(files)
    folder.mkdir(parents=True)
    return {"project": project, "cc": cc, "files": files, "folder": folder}


def operation(project, source, target, mapping, name):
    source_schema = source.type.response_schema(source.config)
    target_schema = target.type.request_schema(target.config)
    problems = validate_mapping(mapping, source_schema=source_schema, target_schema=target_schema)
    assert not has_errors(problems), problems  # the editor would accept this mapping
    return OperationFactory(
        project=project,
        name=name,
        source=source,
        target=target,
        transformation=TransformationFactory(project=project, name=name, mapping=mapping),
    )


def run(op, timeout: float = 120):
    finished = wait_final(run_start(operation=op, trigger=RunTrigger.MANUAL), timeout=timeout)
    return finished


def log_of(run_row) -> list[str]:
    return list(run_row.log_lines.values_list("message", flat=True))


# ------------------------------------------------------------------ 1,000 contacts -> Create
def contacts_csv(list_id: str) -> tuple[str, dict[str, int]]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Email", "First Name", "Last Name", "Phone", "City", "Lists"])
    expected = Counter()
    for i in range(1000):
        email = f"contact{i}@example.com"
        first = "" if i % 9 == 0 else f"First{i}"  # missing optional fields: still created
        phone = "" if i % 4 == 0 else f"555-{i:04d}"
        if i % 200 == 99:
            out.write(f"{email},{first}\n")  # ragged: two of six columns
            expected["mapping_error"] += 1
            continue
        if i % 50 == 7:
            email = f"contact{i}.example.com"
            expected["validation"] += 1
        elif i % 100 == 23:
            email = ""
            expected["validation"] += 1
        elif i % 100 == 61:
            email = f"contact{i - 1}@example.com"  # a duplicate of the row before
            expected["contacts.api.conflict"] += 1
        else:
            expected["created"] += 1
        writer.writerow([email, first, f"Last{i}", phone, "Springfield", list_id])
    return out.getvalue(), dict(expected)


def test_1000_contacts_from_csv_through_create(setup, cc_sandbox, client_for):
    list_id = cc_sandbox.list_id("Newsletter")
    text, expected = contacts_csv(list_id)
    assert expected == {
        "created": 955,
        "validation": 30,
        "contacts.api.conflict": 10,
        "mapping_error": 5,
    }
    (setup["folder"] / "contacts.csv").write_text(text)
    source = ActivityFactory(
        connection=setup["files"],
        activity_type="read",
        name="Contacts CSV",
        config={"file_name": "contacts.csv"},
    )
    target = ActivityFactory(
        connection=setup["cc"],
        activity_type="create",
        name="Create",
        config={"mode": "single", "create_source": "Account", "on_duplicate": "fail"},
    )
    mapping = [
        {"target": "email_address.address", "kind": "path", "value": "Email"},
        {"target": "first_name", "kind": "path", "value": "First Name"},
        {"target": "last_name", "kind": "path", "value": "Last Name"},
        {"target": "phone_numbers.0.phone_number", "kind": "path", "value": "Phone"},
        {"target": "phone_numbers.0.kind", "kind": "constant", "value": "home"},
        {"target": "street_addresses.0.city", "kind": "path", "value": "City"},
        {"target": "street_addresses.0.kind", "kind": "constant", "value": "home"},
        {"target": "list_memberships", "kind": "expression", "value": "Lists | split(',')"},
    ]
    op = operation(setup["project"], source, target, mapping, "CSV to contacts")

    done = run(op, timeout=120)  # seconds: the worker paces at 100x (tests/runs/conftest.py)

    assert done.status == RunStatus.WARNING, (done.message, log_of(done)[-5:])
    assert (done.source_records, done.target_records, done.failed_records) == (1000, 955, 45)
    assert "Finished with failed records: 1000 source records, 955 written, 45 failed." in (
        log_of(done)
    )
    assert Counter(done.failures.values_list("error_key", flat=True)) == {
        "validation": 30,
        "contacts.api.conflict": 10,
        "mapping_error": 5,
    }
    ragged = done.failures.get(index=99)
    assert ragged.key == "contacts.csv line 101"
    assert ragged.error_message == (
        "record: contacts.csv line 101: 2 values where the header has 6 columns."
    )
    duplicate = done.failures.get(index=61)
    assert duplicate.key == "contact60@example.com"
    assert "already exists" in duplicate.error_message

    # The sandbox holds exactly the created contacts, nested fields in place.
    assert len(cc_sandbox.contacts) == 955
    ann = cc_sandbox.contact_by_email("contact1@example.com")
    assert ann["first_name"] == "First1"
    assert [p["phone_number"] for p in ann["phone_numbers"]] == ["555-0001"]
    assert ann["street_addresses"][0]["city"] == "Springfield"
    assert ann["list_memberships"] == [list_id]
    no_phone = cc_sandbox.contact_by_email("contact4@example.com")
    assert not no_phone.get("phone_numbers")

    # The failed records download in the source's own columns, with their errors.
    response = client_for("operator").get(f"/projects/{op.project_id}/runs/{done.pk}/failures.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 45
    invalid = next(r for r in rows if r["Email"] == "contact7.example.com")
    assert invalid["_error_key"] == "validation"
    assert "not a valid email address" in invalid["_error_message"]


# ------------------------------------------------------------ Query -> CSV -> Delete, Create
def test_query_to_csv_and_back(setup, cc_sandbox):
    cc_sandbox.seed_contacts(12, lists=["Customers"])
    original = {c["email_address"]["address"]: c for c in cc_sandbox.contacts}
    customers = cc_sandbox.list_id("Customers")
    query = ActivityFactory(
        connection=setup["cc"],
        activity_type="query",
        name="All contacts",
        config={"include": ["list_memberships"]},
    )
    write = ActivityFactory(
        connection=setup["files"],
        activity_type="write",
        name="Contacts file",
        config={"file_name": "contacts-{run_id}.csv", "format": "csv"},
    )
    to_file = operation(setup["project"], query, write, [], "Contacts to CSV")
    first = run(to_file)
    assert first.status == RunStatus.SUCCESS, (first.message, log_of(first))
    assert (first.source_records, first.target_records) == (12, 12)
    written = setup["folder"] / f"contacts-{first.pk}.csv"
    rows = list(csv.DictReader(written.open(newline="")))
    assert {r["email_address.address"] for r in rows} == set(original)
    assert all(r["list_memberships"] == customers for r in rows)

    read = ActivityFactory(
        connection=setup["files"],
        activity_type="read",
        name="Read contacts",
        config={"file_name": "contacts-*.csv"},
    )
    delete = ActivityFactory(
        connection=setup["cc"],
        activity_type="delete",
        name="Delete by email",
        config={"match_by": "email", "mode": "single"},
    )
    by_email = [{"target": "email_address", "kind": "path", "value": "email_address.address"}]
    deleted = run(operation(setup["project"], read, delete, by_email, "Delete from CSV"))
    assert deleted.status == RunStatus.SUCCESS, (deleted.message, log_of(deleted))
    assert deleted.target_records == 12 and cc_sandbox.contacts == []

    create = ActivityFactory(
        connection=setup["cc"],
        activity_type="create",
        name="Create back",
        config={"mode": "single", "on_duplicate": "update"},
    )
    back = [
        {"target": "email_address.address", "kind": "path", "value": "email_address.address"},
        {"target": "first_name", "kind": "path", "value": "first_name"},
        {"target": "last_name", "kind": "path", "value": "last_name"},
        {"target": "list_memberships", "kind": "expression", "value": "list_memberships | split"},
    ]
    restored = run(operation(setup["project"], read, create, back, "CSV back to contacts"))
    assert restored.status == RunStatus.SUCCESS, (restored.message, log_of(restored))
    assert restored.target_records == 12
    now = {c["email_address"]["address"]: c for c in cc_sandbox.contacts}
    assert set(now) == set(original)
    for email, contact in now.items():
        assert contact["first_name"] == original[email]["first_name"]
        assert contact["last_name"] == original[email]["last_name"]
        assert contact["list_memberships"] == [customers]


# ----------------------------------------------------------------- a CSV of emails -> Delete
def test_csv_of_emails_through_delete(setup, cc_sandbox):
    cc_sandbox.seed_contacts(5)
    emails = sorted(c["email_address"]["address"] for c in cc_sandbox.contacts)
    (setup["folder"] / "unsubscribe.csv").write_text(
        "email\n" + "\n".join(emails) + "\nnobody@example.com\nnot-an-email\n\n"
    )
    read = ActivityFactory(
        connection=setup["files"],
        activity_type="read",
        name="Emails",
        config={"file_name": "unsubscribe.csv"},
    )
    delete = ActivityFactory(
        connection=setup["cc"],
        activity_type="delete",
        name="Delete",
        config={"match_by": "email", "mode": "single"},
    )
    mapping = [{"target": "email_address", "kind": "expression", "value": "email | trim | lower"}]
    done = run(operation(setup["project"], read, delete, mapping, "Unsubscribe"))
    assert done.status == RunStatus.WARNING, (done.message, log_of(done))
    assert (done.source_records, done.target_records, done.failed_records) == (7, 5, 2)
    failures = {f.key: (f.error_key, f.error_message) for f in done.failures.all()}
    assert set(failures) == {"nobody@example.com", "not-an-email"}
    assert failures["nobody@example.com"][0] == "not_found"
    assert cc_sandbox.contacts == []


# ------------------------------------------------ inline data -> file; empty and oversized files
def test_inline_data_to_a_file_and_bad_files(setup, client_for):
    project, files, folder = setup["project"], setup["files"], setup["folder"]
    inline = ActivityFactory(
        connection=files,
        activity_type="inline",
        name="Typed in",
        config={"data": "email,name\na@x.io,Ann\nb@x.io,Bob\nbroken\n"},
    )
    write = ActivityFactory(
        connection=files,
        activity_type="write",
        name="Out",
        config={"file_name": "out-{run_id}.jsonl", "format": "jsonl"},
    )
    mapping = [
        {"target": "email", "kind": "path", "value": "email"},
        {"target": "name", "kind": "expression", "value": "name | upper"},
    ]
    done = run(operation(project, inline, write, mapping, "Inline to file"))
    assert done.status == RunStatus.WARNING, (done.message, log_of(done))
    assert (done.source_records, done.target_records, done.failed_records) == (3, 2, 1)
    assert done.failures.get().key == "inline data line 4"
    download = client_for("viewer").get(
        f"/projects/{project.pk}/files/{files.pk}/download/out-{done.pk}.jsonl"
    )
    assert b"".join(download.streaming_content).decode().splitlines() == [
        '{"email": "a@x.io", "name": "ANN"}',
        '{"email": "b@x.io", "name": "BOB"}',
    ]

    (folder / "empty.csv").write_text("")
    (folder / "big.csv").write_text("email\n" + "someone@example.com\n" * 12_000)
    size = (folder / "big.csv").stat().st_size
    for name, message in (
        ("empty.csv", "empty.csv is empty: a CSV file needs a header row."),
        ("big.csv", f"big.csv is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes."),
    ):
        read = ActivityFactory(
            connection=files, activity_type="read", name=name, config={"file_name": name}
        )
        failed = run(operation(project, read, write, [], f"Read {name}"))
        assert failed.status == RunStatus.ERROR
        assert message in failed.message, failed.message
        assert failed.source_records == 0
