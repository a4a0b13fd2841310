"""Create one by one on a real worker under 20% faults, with pre-existing emails (issue 17.1).

Half of the faults strike before a call's state change (nothing done) and half after it
(done, the answer lost), so retried creates meet 409s both for contacts our own first try
created and for contacts that were there before. The far side is read back over HTTP and
checked record by record against what the run reported, for each duplicate policy.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.reliability.conftest import log_of
from tests.runs.conftest import wait_final

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

COUNT = 45
PRE_EXISTING = range(0, COUNT, 3)  # r0, r3, r6, ...: 15 emails already at Constant Contact


def far_side(sandbox) -> dict[str, dict[str, Any]]:
    answer = requests.get(sandbox.url + "/_sandbox/contacts", timeout=10)
    answer.raise_for_status()
    return {c["email_address"]["address"]: c for c in answer.json()["contacts"]}


def pre_create(sandbox, tokens) -> dict[str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    for i in PRE_EXISTING:
        body = {
            "email_address": {"address": f"r{i}@example.com"},
            "first_name": f"Before {i}",
            "create_source": "Account",
        }
        answer = requests.post(sandbox.api_base_url + "/contacts", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
    return far_side(sandbox)


@pytest.mark.parametrize("policy", ["update", "skip", "fail"])
def test_every_duplicate_policy_holds_under_faults_on_a_worker(
    policy, cc_operation, cc_sandbox, cc_tokens
):
    before = pre_create(cc_sandbox, cc_tokens)
    operation = cc_operation(count=COUNT, page=15)
    target = operation.target
    target.config = {**target.config, "on_duplicate": policy}
    target.save()
    cc_sandbox.configure(error_rate=0.2, error_after_share=0.5)

    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=300)

    cc_sandbox.configure(error_rate=0.0)
    after = far_side(cc_sandbox)
    failures = dict(run.failures.values_list("key", "error_key"))
    expected_status = RunStatus.WARNING if policy == "fail" else RunStatus.SUCCESS
    assert run.status == expected_status, (run.message, failures, log_of(run)[-5:])
    assert len(after) == COUNT  # each email exactly once (the sandbox keeps emails unique)
    for i in range(COUNT):
        email = f"r{i}@example.com"
        contact = after[email]
        if email in before:
            assert contact["contact_id"] == before[email]["contact_id"]
            if policy == "update":
                assert contact["first_name"] == f"Record {i}", email  # the update was applied
            else:
                assert contact["first_name"] == f"Before {i}", email  # left alone
            assert (email in failures) == (policy == "fail"), (email, failures)
        else:
            assert contact["first_name"] == f"Record {i}"
            assert email not in failures, (email, failures)
    if policy == "fail":
        assert set(failures.values()) == {"contacts.api.conflict"}
    written = COUNT - len(failures)
    assert (run.target_records, run.failed_records) == (written, len(failures))
    # The faults really struck creates, both before and after the state change.
    faults = [r.fault for r in cc_sandbox.api_requests() if r.method == "POST"]
    assert faults.count("before") >= 1 and faults.count("after") >= 1, faults
