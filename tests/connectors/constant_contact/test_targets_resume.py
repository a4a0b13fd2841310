"""Per-record writes when a worker dies mid-batch (issue 17.4, connector side).

Each record's outcome is reported through ``on_result`` as soon as it is known, and its
first send is kept in the run journal before it goes out. The re-queued attempt gets the
records without a committed outcome (``resuming=True``, the same journal) and resolves
those already done: a contact this operation created is "created", not a conflict.

The engine's part (committing results, re-queueing) is simulated with a MemoryJournal and a
list of committed results; the worker's death is an exception no handler can catch, raised
right after a call's answer arrived.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connectors.base import HttpExchange, MemoryJournal, RecordResult, RunContext
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.activities.delete import DeleteContacts
from connectors.constant_contact.activities.update import UpdateContacts
from connectors.constant_contact.sandbox import Sandbox
from tests.connectors.constant_contact.conftest import LockedConnection

CREATE, UPDATE, DELETE = CreateContacts(), UpdateContacts(), DeleteContacts()


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the connector catches it."""


def far_side(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    answer = requests.get(sandbox.url + "/_sandbox/contacts", timeout=10)
    answer.raise_for_status()
    return {c["email_address"]["address"]: c for c in answer.json()["contacts"]}


class Engine:
    """The engine's side, in miniature: committed results per input index, one journal."""

    def __init__(self, connection: LockedConnection, batch: list[dict[str, Any]]) -> None:
        self.connection = connection
        self.batch = batch
        self.journal = MemoryJournal()
        self.committed: dict[int, RecordResult] = {}

    def attempt(
        self,
        write: Any,
        config: dict[str, Any],
        *,
        kill_after: int | None,
        any_call: bool = False,
    ) -> bool:
        """One attempt over the records without a committed result; the worker dies right
        after the ``kill_after``-th successful write call's answer (``any_call``: after the
        ``kill_after``-th HTTP exchange of any kind, failed tries included; None: never).
        True if the attempt died."""
        pending = [i for i in range(len(self.batch)) if i not in self.committed]
        calls = 0

        def on_http(exchange: HttpExchange) -> None:
            nonlocal calls
            wrote = exchange.method in ("POST", "PUT", "DELETE") and (exchange.status or 500) < 400
            if any_call or wrote:
                calls += 1
                if calls == kill_after:
                    raise WorkerKilled

        def on_result(index: int, result: RecordResult) -> None:
            self.committed[pending[index]] = result

        context = RunContext(
            connection=self.connection,
            journal=self.journal,
            resuming=bool(self.committed) or bool(self.journal.values),
            on_http=on_http,
            on_result=on_result,
        )
        try:
            results = write(context, config, [self.batch[i] for i in pending])
        except WorkerKilled:
            return True
        assert len(results) == len(pending)
        for index, result in enumerate(results):
            assert self.committed[pending[index]] == result  # each was reported on the way
        return False


@pytest.mark.parametrize("policy", ["update", "skip", "fail"])
@pytest.mark.parametrize("kill_after", [1, 3, 5])  # after that many successful writes
def test_create_after_a_kill_reports_what_the_far_side_holds(
    connection: LockedConnection, cc_sandbox: Sandbox, policy: str, kill_after: int
) -> None:
    cc_sandbox.seed_contacts(5)
    before = far_side(cc_sandbox)
    batch = []
    for n in range(1, 11):  # new emails, and every other one of the seeded contacts
        if n % 2:
            batch.append({"email_address": {"address": f"new{n}@example.com"}, "last_name": "N"})
        else:
            batch.append({"email_address": {"address": f"contact{n // 2}@example.com"}})
            batch[-1]["job_title"] = f"Title {n}"
    engine = Engine(connection, batch)
    config = {"on_duplicate": policy}

    engine.attempt(CREATE.write, config, kill_after=kill_after)
    assert len(engine.committed) < len(batch)  # it did die mid-batch
    engine.attempt(CREATE.write, config, kill_after=None)

    after = far_side(cc_sandbox)
    assert sorted(engine.committed) == list(range(len(batch)))
    written = {"update": {"created", "updated"}, "skip": {"created"}, "fail": {"created"}}
    for record, (_, result) in zip(batch, sorted(engine.committed.items()), strict=True):
        email = record["email_address"]["address"]
        if email in before:
            if policy == "fail":
                assert (result.ok, result.error_key) == (False, "contacts.api.conflict")
            else:
                assert result.action == {"update": "updated", "skip": "skipped"}[policy], result
            expected = record["job_title"] if policy == "update" else before[email].get("job_title")
            assert after[email].get("job_title") == expected
        else:
            assert (result.ok, result.action) == (True, "created"), (email, result)
            assert result.external_id == after[email]["contact_id"]
    created = [r for r in engine.committed.values() if r.action == "created"]
    assert len(created) == len(after) - len(before) == 5  # reported written == far side
    assert {r.action for r in engine.committed.values() if r.ok} <= written[policy] | {"skipped"}


def test_update_and_delete_report_each_record_as_it_finishes(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(6)
    ids = [c["contact_id"] for c in cc_sandbox.contacts]
    updates = Engine(connection, [{"contact_id": i, "job_title": "Resumed"} for i in ids])
    updates.attempt(UPDATE.write, {}, kill_after=3)
    assert sorted(updates.committed) == [0, 1]  # the third was sent, its result not known
    updates.attempt(UPDATE.write, {}, kill_after=None)
    assert [r.action for _, r in sorted(updates.committed.items())] == ["updated"] * 6
    assert {c["job_title"] for c in far_side(cc_sandbox).values()} == {"Resumed"}

    deletes = Engine(connection, [{"contact_id": i} for i in ids])
    deletes.attempt(DELETE.write, {}, kill_after=2)
    assert sorted(deletes.committed) == [0]
    deletes.attempt(DELETE.write, {}, kill_after=None)
    assert [r.action for _, r in sorted(deletes.committed.items())] == ["deleted"] * 6
    assert far_side(cc_sandbox) == {}


@pytest.mark.parametrize("kill_at", range(1, 29, 2))  # the batch takes ~30 calls
def test_a_kill_at_any_call_under_faults_leaves_the_truth(
    connection: LockedConnection, cc_sandbox: Sandbox, kill_at: int
) -> None:
    """Killed after the n-th HTTP exchange whatever it was (a create, a 409, a read-back, a
    PUT, a failed try), with 20% faults half of them after the state change; resumed and
    killed again a few calls later; resumed to the end: every record has one outcome, the
    far side holds each email once, and what was reported created is what was created."""
    cc_sandbox.seed_contacts(4)
    before = far_side(cc_sandbox)
    batch = [
        {"email_address": {"address": f"contact{n}@example.com"}, "job_title": "T"} for n in (1, 2)
    ]
    batch += [
        {"email_address": {"address": f"new{n}@example.com"}, "last_name": "N"} for n in range(10)
    ]
    batch += [
        {"email_address": {"address": f"contact{n}@example.com"}, "job_title": "T"} for n in (3, 4)
    ]
    cc_sandbox.configure(error_rate=0.2, error_after_share=0.5)
    engine = Engine(connection, batch)
    config = {"on_duplicate": "update"}
    assert engine.attempt(CREATE.write, config, kill_after=kill_at, any_call=True)
    engine.attempt(CREATE.write, config, kill_after=5, any_call=True)  # killed again, or done
    assert not engine.attempt(CREATE.write, config, kill_after=None)
    cc_sandbox.configure(error_rate=0.0)

    after = far_side(cc_sandbox)
    assert len(after) == len(before) + 10  # 10 new emails, each once
    results = [engine.committed[i] for i in range(len(batch))]
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    actions = {r.key: r.action for r in results}
    assert {k for k, a in actions.items() if a == "created"} == set(after) - set(before)
    assert {k for k, a in actions.items() if a == "updated"} == set(before)
    assert all(after[email]["job_title"] == "T" for email in before)
