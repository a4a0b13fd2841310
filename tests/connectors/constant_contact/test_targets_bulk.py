"""Bulk import and bulk delete: one bad row fails alone (issue 17.3), and an accepted import
is resumed, not imported again, after the worker dies while polling it (issue 17.4).

Against the sandbox over HTTP; the far side is read back through its control API.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connectors.base import HttpExchange, MemoryJournal, RecordResult, RunContext
from connectors.constant_contact.activities import common as common_module
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.activities.delete import DeleteContacts
from connectors.constant_contact.sandbox import Sandbox
from tests.connectors.constant_contact.conftest import LockedConnection, Recorder

CREATE, DELETE = CreateContacts(), DeleteContacts()


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs in the dying attempt (not an Exception, so
    no handler in the connector can catch it)."""


def far_side(sandbox: Sandbox, include_deleted: bool = False) -> dict[str, dict[str, Any]]:
    """The sandbox's contacts by email, read over its HTTP control API."""
    params = {"include_deleted": "true"} if include_deleted else {}
    answer = requests.get(sandbox.url + "/_sandbox/contacts", params=params, timeout=10)
    answer.raise_for_status()
    return {c["email_address"]["address"]: c for c in answer.json()["contacts"]}


def posts(sandbox: Sandbox, path: str) -> list[Any]:
    return [r for r in sandbox.api_requests() if r.method == "POST" and r.path.endswith(path)]


def rows(count: int, prefix: str = "bulk") -> list[dict[str, Any]]:
    return [{"email": f"{prefix}{i}@example.com", "first_name": f"B{i}"} for i in range(count)]


@pytest.fixture
def quick_activities(cc_sandbox: Sandbox) -> None:
    cc_sandbox.configure(activity_seconds=0.05, activity_polls=1)


# ------------------------------------------------------------------------------ 17.3


@pytest.mark.usefixtures("quick_activities")
def test_bulk_delete_fails_a_non_uuid_id_alone(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(6)
    ids = [{"contact_id": c["contact_id"]} for c in cc_sandbox.contacts]
    batch = [*ids[:3], {"contact_id": "12345"}, *ids[3:5], {"contact_id": "DROP TABLE"}]
    results = DELETE.write(context, {"mode": "bulk"}, batch)
    assert [(r.ok, r.action, r.error_key) for r in results] == [
        *[(True, "deleted", "")] * 3,
        (False, "", "validation"),
        *[(True, "deleted", "")] * 2,
        (False, "", "validation"),
    ]
    assert "12345" in results[3].error_message and "UUID" in results[3].error_message
    (post,) = posts(cc_sandbox, "/contact_delete")
    assert len(post.json["contact_ids"]) == 5  # the bad ids never left
    live = far_side(cc_sandbox)
    assert [c["contact_id"] for c in live.values()] == [ids[5]["contact_id"]]


@pytest.mark.usefixtures("quick_activities")
def test_bulk_import_fails_a_row_with_an_unknown_key_alone(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.configure(strict_import=True)  # Constant Contact refuses the whole chunk
    batch = rows(30)
    batch[4]["favourite_colour"] = "teal"  # not a column of the import
    batch[17]["Job Title"] = "x"  # nor is this (the column is job_title)
    config = {"mode": "bulk", "list_ids": [cc_sandbox.list_id("Customers")]}
    results = CREATE.write(context, config, batch)
    assert [i for i, r in enumerate(results) if not r.ok] == [4, 17]
    assert results[4].error_key == "validation" and "favourite_colour" in results[4].error_message
    assert "Job Title" in results[17].error_message
    assert all(r.action == "imported" for i, r in enumerate(results) if i not in (4, 17))
    (post,) = posts(cc_sandbox, "/contacts_json_import")
    assert len(post.json["import_data"]) == 28
    assert set(far_side(cc_sandbox)) == {
        row["email"] for i, row in enumerate(batch) if i not in (4, 17)
    }


@pytest.mark.usefixtures("quick_activities")
def test_a_refused_import_chunk_is_bisected_to_its_bad_rows(
    context: RunContext, cc_sandbox: Sandbox, recorder: Recorder
) -> None:
    """Only Constant Contact knows its custom fields: a strict one refuses the whole chunk
    for one unknown, naming no row. Halving isolates the bad rows; the rest is imported."""
    cc_sandbox.configure(strict_import=True)
    batch = rows(40)
    for bad in (6, 29):
        batch[bad]["cf:no such field"] = "x"
    config = {"mode": "bulk", "list_ids": [cc_sandbox.list_id("Customers")]}
    results = CREATE.write(context, config, batch)
    assert len(results) == 40
    assert [i for i, r in enumerate(results) if not r.ok] == [6, 29]
    assert "no such field" in results[6].error_message
    assert all(r.action == "imported" for i, r in enumerate(results) if i not in (6, 29))
    assert set(far_side(cc_sandbox)) == {
        row["email"] for i, row in enumerate(batch) if i not in (6, 29)
    }
    imports = posts(cc_sandbox, "/contacts_json_import")
    refused = [p for p in imports if p.status == 400]
    # Each bad row costs at most two refused halves per level: 40 -> 20 -> 10 -> 5 -> 3 -> 2 -> 1.
    assert len(refused) <= 1 + 2 * 2 * 6
    assert sum(len(p.json["import_data"]) for p in imports if p.status == 201) == 38
    warnings = [m for level, m in recorder.logs if level == "warning"]
    assert any("refused" in m and "extra" in m for m in warnings), warnings
    assert any(f"{len(imports) - 1} extra" in m for _, m in recorder.logs), recorder.logs


@pytest.mark.usefixtures("quick_activities")
def test_a_refused_bulk_delete_is_bisected_too(
    context: RunContext, cc_sandbox: Sandbox, recorder: Recorder
) -> None:
    cc_sandbox.seed_contacts(8)
    batch = [{"contact_id": c["contact_id"]} for c in cc_sandbox.contacts]
    cc_sandbox.inject(400, count=1, path_prefix="/activities/contact_delete")  # whole request
    results = DELETE.write(context, {"mode": "bulk"}, batch)
    assert [r.action for r in results] == ["deleted"] * 8
    assert [len(p.json["contact_ids"]) for p in posts(cc_sandbox, "/contact_delete")] == [8, 4, 4]
    assert far_side(cc_sandbox) == {}
    assert any("took 2 extra requests" in m for _, m in recorder.logs), recorder.logs


@pytest.mark.usefixtures("quick_activities")
def test_isolating_refused_rows_has_a_bounded_cost(
    context: RunContext,
    cc_sandbox: Sandbox,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refusal that is not about rows (here: every request refused) must not spend the
    daily quota on halving down to single rows."""
    monkeypatch.setattr(common_module, "MAX_BISECT_REQUESTS", 10)
    monkeypatch.setattr(common_module, "BISECT_BAD_ROWS", 0)
    cc_sandbox.inject(400, count=1000, path_prefix="/activities/contacts_json_import")
    config = {"mode": "bulk", "list_ids": [cc_sandbox.list_id("Customers")]}
    results = CREATE.write(context, config, rows(40))
    assert [r.ok for r in results] == [False] * 40
    assert len(posts(cc_sandbox, "/contacts_json_import")) == 1 + 10
    assert any(level == "error" and "gave up" in m for level, m in recorder.logs)
    assert far_side(cc_sandbox) == {}


# ------------------------------------------------------------------------------ 17.4


def killing_context(
    connection: LockedConnection, journal: MemoryJournal, method: str, kill_on: str
) -> tuple[RunContext, list[tuple[int, RecordResult]]]:
    """A context whose worker dies right after the first successful ``method`` call whose
    URL contains ``kill_on`` (its answer received, nothing after it done)."""
    committed: list[tuple[int, RecordResult]] = []

    def on_http(exchange: HttpExchange) -> None:
        ok = exchange.status is not None and exchange.status < 400
        if ok and exchange.method == method and kill_on in exchange.url:
            raise WorkerKilled

    context = RunContext(
        connection=connection,
        journal=journal,
        on_http=on_http,
        on_result=lambda i, r: committed.append((i, r)),
    )
    return context, committed


@pytest.mark.usefixtures("quick_activities")
def test_bulk_import_resumes_polling_the_accepted_activity(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    batch = rows(100)
    config = {"mode": "bulk", "list_ids": [cc_sandbox.list_id("Customers")]}
    journal = MemoryJournal()
    dying, committed = killing_context(connection, journal, "GET", "/activities/")  # polling
    with pytest.raises(WorkerKilled):
        CREATE.write(dying, config, batch)
    assert committed == []  # killed before any outcome was known
    assert len(posts(cc_sandbox, "/contacts_json_import")) == 1

    results: list[tuple[int, RecordResult]] = []
    resumed = RunContext(
        connection=connection,
        journal=journal,
        resuming=True,
        on_result=lambda i, r: results.append((i, r)),
    )
    outcome = CREATE.write(resumed, config, batch)

    assert len(posts(cc_sandbox, "/contacts_json_import")) == 1  # not imported again
    assert [r.action for r in outcome] == ["imported"] * 100
    assert sorted(i for i, _ in results) == list(range(100))  # reported as they were known
    assert len(far_side(cc_sandbox)) == 100


@pytest.mark.usefixtures("quick_activities")
def test_bulk_delete_resumes_polling_the_accepted_activity(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(20)
    batch = [{"contact_id": c["contact_id"]} for c in cc_sandbox.contacts]
    journal = MemoryJournal()
    dying, _ = killing_context(connection, journal, "GET", "/activities/")
    with pytest.raises(WorkerKilled):
        DELETE.write(dying, {"mode": "bulk"}, batch)
    resumed = RunContext(connection=connection, journal=journal, resuming=True)
    outcome = DELETE.write(resumed, {"mode": "bulk"}, batch)
    assert [r.action for r in outcome] == ["deleted"] * 20
    assert len(posts(cc_sandbox, "/contact_delete")) == 1
    assert far_side(cc_sandbox) == {}


def test_an_import_whose_answer_was_lost_is_sent_again_without_duplicates(
    connection: LockedConnection, cc_sandbox: Sandbox, quick_activities: None
) -> None:
    """No activity id came back, so none could be kept: the import is sent again (an import
    is an upsert by email: still one contact each)."""
    batch = rows(10)
    config = {"mode": "bulk", "list_ids": [cc_sandbox.list_id("Customers")]}
    cc_sandbox.inject(503, count=1, path_prefix="/activities/contacts_json_import", when="after")
    journal = MemoryJournal()
    outcome = CREATE.write(RunContext(connection=connection, journal=journal), config, batch)
    assert all(r.ok for r in outcome)
    assert len(far_side(cc_sandbox)) == 10
    assert [p.status for p in posts(cc_sandbox, "/contacts_json_import")] == [503, 201]
