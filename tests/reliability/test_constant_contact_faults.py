"""Constant Contact faults injected by the sandbox, end to end: a real worker process, the
sandbox over HTTP, the test database. For each fault the run finishes (or ends with a clear
error), every input record is created exactly once or reported failed, and nothing stays
Running."""

from __future__ import annotations

import pytest

from designer.crypto import decrypt_json
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.reliability.conftest import account_for, log_of
from tests.runs.conftest import wait_final, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _progress(sandbox, at_least: int):
    """Wait until the far side holds ``at_least`` contacts (the engine counts per batch of
    500, so the run's own counters move only at the end of these small runs)."""

    def moved():
        return len(sandbox.contacts) >= at_least

    wait_for(moved, timeout=60, interval=0.02, what=f"{at_least} contacts in the sandbox")


@pytest.fixture(autouse=True)
def paced_sandbox(cc_sandbox):
    # Every API answer takes 40 ms, so a fault can be injected while a run is mid-way.
    cc_sandbox.configure(latency=0.04)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_burst_of_errors_mid_run_is_retried_and_nothing_is_lost(status, cc_operation, cc_sandbox):
    count = 40
    operation = cc_operation(count=count, page=5, delay=0.1)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    _progress(cc_sandbox, 10)
    cc_sandbox.inject(status, count=2, path_prefix="/v3/contacts")  # two answers in a row
    wait_final(run, timeout=90)
    assert run.status == RunStatus.SUCCESS, (run.message, log_of(run)[-5:])
    assert account_for(run, cc_sandbox, count)["created"] == count
    answered = [r.status for r in cc_sandbox.api_requests() if r.method == "POST"]
    assert answered.count(status) == 2  # the fault really happened ...
    assert any(f"-> {status} (attempt 1" in line for line in log_of(run))  # ... and is logged


def test_a_burst_longer_than_the_retries_fails_those_records_only(cc_operation, cc_sandbox):
    """Six 503s in a row exhaust one record's tries (max_tries=6): that record is reported
    failed with a clear reason, the others are created, the run ends Success with Warning."""
    count = 12
    operation = cc_operation(count=count, page=4)
    cc_sandbox.inject(503, count=6, path_prefix="/v3/contacts")
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=180)
    assert run.status == RunStatus.WARNING, (run.message, log_of(run)[-5:])
    outcome = account_for(run, cc_sandbox, count)
    assert outcome["created"] == count - 1
    (failure,) = run.failures.all()
    assert failure.key == "r0@example.com"
    assert "503" in failure.error_message or "unavailable" in failure.error_message.lower()


def test_answers_slower_than_the_client_timeout_create_each_contact_once(cc_operation, cc_sandbox):
    """The sandbox sits on two creates past the 1 s client time-out (and then does them):
    the client's retry finds the contact there (409) and counts it created, not twice."""
    count = 10
    # The real backoff: a retry 10x sooner would reach the sandbox before it did the held
    # create, and create the contact itself (no 409 to find).
    worker_env = {"CONNECTOR_HTTP_TIMEOUT": "1", "CONNECTOR_RETRY_SPEEDUP": "1"}
    operation = cc_operation(count=count, page=5, worker_env_extra=worker_env)
    cc_sandbox.inject(0, count=2, path_prefix="/v3/contacts", delay=2.5)
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL), timeout=120)
    assert run.status == RunStatus.SUCCESS, (run.message, log_of(run)[-8:])
    assert account_for(run, cc_sandbox, count)["created"] == count
    assert any("-> ReadTimeout (attempt" in line for line in log_of(run)), log_of(run)


def test_access_token_expiring_mid_run_is_refreshed(cc_operation, cc_sandbox, project):
    count = 30
    operation = cc_operation(count=count, page=5, delay=0.1)
    connection = operation.target.connection
    before = decrypt_json(connection.secrets_encrypted)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    _progress(cc_sandbox, 10)
    assert cc_sandbox.expire_access_tokens() >= 1
    wait_final(run, timeout=90)
    assert run.status == RunStatus.SUCCESS, (run.message, log_of(run)[-5:])
    assert account_for(run, cc_sandbox, count)["created"] == count
    connection.refresh_from_db()
    after = decrypt_json(connection.secrets_encrypted)
    assert after["access_token"] != before["access_token"]  # refreshed and stored
    assert after["refresh_token"] != before["refresh_token"]  # the rotated one kept
    token_calls = [r for r in cc_sandbox.requests if r.path.endswith("/token")]
    assert len(token_calls) == 1
    # The worker's own log output (INFO) carries none of the old or new credentials.
    output = "".join(w.output() for w in cc_operation.state["workers"])
    assert "Task runs.execute" in output  # it is the worker's log indeed
    for secret in (*before.values(), *after.values()):
        if isinstance(secret, str) and len(secret) > 8:
            assert secret not in output


def test_refresh_token_rotated_by_another_worker_ends_with_a_clear_reconnect_error(
    cc_operation, cc_sandbox
):
    """Another party spent our refresh token: the stored one is dead. The run can't go on;
    it ends in Error saying to reconnect, and every record read is accounted for."""
    count = 30
    operation = cc_operation(count=count, page=5, delay=0.1)
    connection = operation.target.connection
    stored = decrypt_json(connection.secrets_encrypted)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    _progress(cc_sandbox, 10)
    cc_sandbox.rotate_refresh_token(stored["refresh_token"])
    cc_sandbox.expire_access_tokens()
    wait_final(run, timeout=90)
    assert run.status == RunStatus.ERROR
    assert "reconnect" in run.message.lower(), run.message
    emails = {f"r{i}@example.com" for i in range(run.source_records)}
    created = {c["email_address"]["address"] for c in cc_sandbox.contacts}
    failed = set(run.failures.values_list("key", flat=True))
    assert created | failed == emails and not (created & failed)
    assert run.target_records == len(created)


def test_two_workers_sharing_one_connection_survive_token_expiry(cc_operation, cc_sandbox, project):
    """Two runs on two workers use one connection; its access token expires while both
    are busy. One refresh rotates the refresh token; the other worker must pick up the new
    pair from the database (row lock) instead of spending the old one."""
    count = 30
    first = cc_operation(count=count, page=5, delay=0.1, workers_count=2, name="First")
    second = cc_operation(count=count, page=5, delay=0.1, name="Second")
    # The second operation writes emails of its own: shift them past the first's.
    second.transformation.mapping = [
        {"target": "email_address.address", "kind": "expression", "value": "'b' ~ email"},
        {"target": "first_name", "kind": "path", "value": "name"},
    ]
    second.transformation.save()
    runs = [run_start(operation=op, trigger=RunTrigger.MANUAL) for op in (first, second)]
    _progress(cc_sandbox, 20)
    cc_sandbox.expire_access_tokens()
    for run in runs:
        wait_final(run, timeout=120)
    assert [r.status for r in runs] == [RunStatus.SUCCESS] * 2, [r.message for r in runs]
    assert {r.agent_name for r in runs} == {w.name for w in cc_operation.state["workers"]}
    assert len(cc_sandbox.contacts) == 2 * count
    assert all(r.failed_records == 0 for r in runs)
