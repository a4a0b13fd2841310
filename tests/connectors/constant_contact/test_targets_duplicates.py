"""Create one by one after retried requests (issue 17.1): a 409 "Email already exists" on a
retry is our own first try only when proven; otherwise the duplicate policy applies.

Faults come from the sandbox, before a call's state change (nothing done) or after it (done,
the answer lost); the far side is read back over HTTP, record by record.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connectors import config as connector_config
from connectors.base import RecordResult, RunContext
from connectors.constant_contact import client as client_module
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.errors import ApiError
from connectors.constant_contact.sandbox import Sandbox
from connectors.http import RetryPolicy
from tests.connectors.constant_contact.conftest import LockedConnection

CREATE = CreateContacts()
POLICIES = ("update", "skip", "fail")
# Enough tries that 20% faults never exhaust one call: every record gets a real outcome.
PATIENT_RETRY = RetryPolicy(max_tries=10, base_delay=0.005, max_delay=0.02, max_total_wait=2.0)


def far_side(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """Every live contact at the sandbox, by email, read over its HTTP control API."""
    answer = requests.get(sandbox.url + "/_sandbox/contacts", timeout=10)
    answer.raise_for_status()
    return {c["email_address"]["address"]: c for c in answer.json()["contacts"]}


def existing(n: int, job_title: str) -> dict[str, Any]:
    return {"email_address": {"address": f"contact{n}@example.com"}, "job_title": job_title}


def new(n: int) -> dict[str, Any]:
    return {"email_address": {"address": f"new{n}@example.com"}, "first_name": f"New{n}"}


def expect_policy(
    policy: str, result: RecordResult, before: dict[str, Any], after: dict[str, Any], title: str
) -> None:
    """The duplicate policy, applied: in the result and at the far side."""
    assert after["contact_id"] == before["contact_id"]
    if policy == "fail":
        assert (result.ok, result.error_key) == (False, "contacts.api.conflict"), result
    else:
        assert (result.ok, result.action) == (
            True,
            {"skip": "skipped", "update": "updated"}[policy],
        )
        assert result.external_id == before["contact_id"]
    if policy == "update":
        assert after["job_title"] == title
        assert after["first_name"] == before["first_name"]  # merged, not wiped
    else:
        assert after.get("job_title") == before.get("job_title")


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(
    ("status", "when", "drop"),
    [
        (429, "before", False),
        (503, "before", False),
        (503, "after", False),
        (0, "before", True),  # the connection dropped, no answer
        (0, "after", True),
    ],
)
def test_a_409_on_the_retry_for_an_existing_email_applies_the_policy(
    context: RunContext, cc_sandbox: Sandbox, policy: str, status: int, when: str, drop: bool
) -> None:
    """After a 429 the call was never processed; a 5xx or a dropped connection may or may
    not have been: either way the contact is the pre-existing one (read back: created long
    before our first send)."""
    cc_sandbox.seed_contacts(3)
    before = far_side(cc_sandbox)["contact2@example.com"]
    cc_sandbox.inject(status, count=1, path_prefix="/contacts", when=when, drop=drop)
    (result,) = CREATE.write(context, {"on_duplicate": policy}, [existing(2, "Pilot")])
    after = far_side(cc_sandbox)["contact2@example.com"]
    expect_policy(policy, result, before, after, "Pilot")
    posts = [r for r in cc_sandbox.api_requests() if r.method == "POST"]
    assert [(p.status, p.fault) for p in posts] == [(status, when), (409, "")]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("drop", [False, True])  # a 503 after the change, or no answer
def test_a_create_whose_answer_was_lost_is_ours_whatever_the_policy(
    context: RunContext, cc_sandbox: Sandbox, policy: str, drop: bool
) -> None:
    cc_sandbox.inject(503, count=1, path_prefix="/contacts", when="after", drop=drop)
    (result,) = CREATE.write(context, {"on_duplicate": policy}, [new(1)])
    contacts = far_side(cc_sandbox)
    assert list(contacts) == ["new1@example.com"]
    assert (result.ok, result.action) == (True, "created"), result
    assert result.external_id == contacts["new1@example.com"]["contact_id"]
    assert not [r for r in cc_sandbox.api_requests() if r.method == "PUT"]  # no update


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_under_20_percent_faults_with_pre_existing_emails(
    context: RunContext,
    cc_sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
) -> None:
    monkeypatch.setattr(client_module, "DEFAULT_RETRY", PATIENT_RETRY)
    cc_sandbox.seed_contacts(20)
    before = far_side(cc_sandbox)
    batch: list[dict[str, Any]] = []
    for n in range(1, 61):  # every third record is a pre-existing email
        batch.append(existing(n // 3, f"Title {n}") if n % 3 == 0 else new(n))
    cc_sandbox.configure(error_rate=0.2, error_after_share=0.5)

    results = CREATE.write(context, {"on_duplicate": policy}, batch)

    cc_sandbox.configure(error_rate=0.0)
    after = far_side(cc_sandbox)
    assert len(results) == len(batch)
    for record, result in zip(batch, results, strict=True):
        email = record["email_address"]["address"]
        assert result.key == email
        if email in before:
            expect_policy(policy, result, before[email], after[email], record["job_title"])
        else:
            assert (result.ok, result.action) == (True, "created"), (email, result)
            assert result.external_id == after[email]["contact_id"]
            assert after[email]["first_name"] == record["first_name"]
    assert len(after) == 20 + 40  # each new email created once, nothing else
    # Both kinds of fault really struck the creates.
    faults = [r.fault for r in cc_sandbox.api_requests() if r.method == "POST"]
    assert faults.count("before") >= 2 and faults.count("after") >= 2, faults


@pytest.mark.parametrize(
    ("fault", "maybe_processed"),
    [
        ({"status": 429}, False),  # throttled: never processed
        ({"status": 503, "when": "before"}, True),  # a 5xx cannot say which
        ({"status": 503, "when": "after"}, True),
        ({"status": 0, "delay": 0.6}, True),  # a read time-out: sent, maybe done
        ({"status": 0, "drop": True}, True),  # the connection dropped after sending
    ],
)
def test_the_client_says_whether_an_earlier_try_may_have_been_processed(
    connection: LockedConnection, cc_sandbox: Sandbox, fault: dict[str, Any], maybe_processed: bool
) -> None:
    connector_config.configure(http_timeout=0.3)
    cc_sandbox.seed_contacts(1)
    cc_sandbox.inject(count=1, path_prefix="/contacts", **fault)
    body = {"email_address": {"address": "contact1@example.com"}, "create_source": "Account"}
    with ConstantContactClient(connection) as client, pytest.raises(ApiError) as raised:
        client.send_json("POST", "/contacts", body)
    assert raised.value.status == 409
    assert raised.value.maybe_processed is maybe_processed
