"""Inbound API triggers through the test client: the settings page (shown once, rotate,
remove), secret URL and signed requests, body rules, limits and their 4xx answers."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from django.test import Client

from designer.api.models import ApiTrigger
from designer.api.running import started_answer
from designer.api.triggers import signature_for, trigger_save
from designer.runs import engine
from designer.runs.models import OperationRun, RunTrigger
from tests.api.conftest import ApiClient
from tests.runs.conftest import make_operation

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def operation(project):
    return make_operation(project, name="Sync contacts")


def hook_path(url: str) -> str:
    return re.search(r"(/api/v1/hooks/[^/]+/)", url).group(1)


def post(path: str, body: bytes | str = b"", content_type="application/json", **headers):
    return Client().generic("POST", path, body, content_type=content_type, headers=headers)


def records(n: int) -> list[dict]:
    return [{"email": f"person{i}@example.com", "n": i} for i in range(n)]


def test_settings_page_creates_shows_once_rotates_and_removes(client_for, project, operation):
    client = client_for("editor")
    page = f"/projects/{project.pk}/operations/{operation.pk}/api-trigger/"
    assert "No API trigger" in client.get(page).content.decode()

    created = client.post(page, {"mode": "secret_url"})
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    url = re.search(r'value="(http[^"]+/api/v1/hooks/[^"]+)"', created.content.decode()).group(1)
    path = hook_path(url)
    key = path.split("/")[-2]
    # Stored only as a hash; later views of the page don't show it.
    assert not ApiTrigger.objects.filter(key_hash=key).exists()
    assert key not in client.get(page).content.decode()
    # Bodies with records: the runs app caps record-less Pending runs per operation at one.
    assert post(path, "[{}]").status_code == 202

    rotated = client.post(page, {"action": "rotate"})
    new_path = hook_path(rotated.content.decode())
    assert new_path != path
    assert post(path, "[{}]").status_code == 404  # the old URL stops at once
    assert post(new_path, "[{}]").status_code == 202

    client.post(page, {"action": "delete"})
    assert not ApiTrigger.objects.exists()
    assert post(new_path).status_code == 404


def test_trigger_page_needs_the_design_role(client_for, project, operation):
    page = f"/projects/{project.pk}/operations/{operation.pk}/api-trigger/"
    assert client_for("operator").post(page, {"mode": "secret_url"}).status_code == 403
    assert client_for("outsider").get(page).status_code == 404
    assert not ApiTrigger.objects.exists()


def test_a_json_array_becomes_the_runs_input_records(personas, operation, token_for):
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    response = post(shown.url_path, json.dumps(records(3)))
    assert response.status_code == 202, response.content
    body = response.json()
    run = OperationRun.objects.get(pk=body["run_id"])
    assert run.trigger == RunTrigger.API_TRIGGER
    assert run.input_records == records(3)
    assert run.total_expected == 3
    assert body["status"] == "pending"
    assert body["status_url"] == f"/api/v1/projects/{operation.project_id}/runs/{run.pk}"
    # Kept with the run, readable through the API.
    token = token_for("viewer")
    kept = ApiClient(token).get(body["run"]["links"]["input"]).json()
    assert kept == {"count": 3, "records": records(3)}


def test_a_start_that_does_not_wait_is_a_202_even_if_its_run_already_ended(personas, operation):
    """A fast worker may end the run before the answer is built: still 202 (the contract
    without ?wait), with no response records (the run wasn't asked to keep them)."""
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    started = post(shown.url_path, json.dumps(records(2))).json()
    run = engine.execute(run_id=started["run_id"], agent_name="inproc@test")
    assert run.is_final
    answer = started_answer(run, 0)
    assert answer.status_code == 202
    assert answer.value["response"] is None


def test_an_object_is_one_record_and_an_empty_body_reads_the_source(personas, operation):
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    one = post(shown.url_path, json.dumps({"email": "a@example.com"})).json()
    assert OperationRun.objects.get(pk=one["run_id"]).input_records == [{"email": "a@example.com"}]
    empty = post(shown.url_path).json()
    assert OperationRun.objects.get(pk=empty["run_id"]).input_records is None


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        ("{not json", "application/json", 400, "not valid JSON"),
        ('[{"a": 1}, 2]', "application/json", 400, "Record 1 is not a JSON object"),
        ("[]", "application/json", 400, "no records"),
        ('"text"', "application/json", 400, "object or an array"),
        ("email=a@b.c", "application/x-www-form-urlencoded", 415, "JSON"),
    ],
)
def test_bad_bodies_get_clear_4xx_and_start_nothing(
    personas, operation, body, content_type, status, words
):
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    response = post(shown.url_path, body, content_type=content_type)
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    assert words in response.json()["detail"]
    assert not OperationRun.objects.exists()


def test_size_and_record_limits(personas, operation, settings):
    settings.API_TRIGGER_MAX_BODY_BYTES = 1000
    settings.API_TRIGGER_MAX_RECORDS = 5
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    big = post(shown.url_path, json.dumps([{"pad": "x" * 2000}]))
    assert big.status_code == 413 and "1000 bytes" in big.json()["detail"]
    many = post(shown.url_path, json.dumps([{}] * 6))
    assert many.status_code == 413 and "5 records" in many.json()["detail"]
    assert post(shown.url_path, json.dumps([{}] * 5)).status_code == 202


def test_rate_limit_per_trigger(personas, project, operation, settings):
    settings.API_TRIGGER_RATE_PER_MINUTE = 2
    _t, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    other = make_operation(project, name="Other")
    _t2, other_shown = trigger_save(operation=other, mode="secret_url", user=personas["admin"])
    if int(time.time()) % 60 > 57:  # don't straddle the minute window
        time.sleep(3)
    assert [post(shown.url_path, "[{}]").status_code for _ in range(3)] == [202, 202, 429]
    limited = post(shown.url_path, "[{}]")
    assert int(limited["Retry-After"]) > 0
    assert "2 requests per minute" in limited.json()["detail"]
    assert post(other_shown.url_path, "[{}]").status_code == 202  # per trigger
    assert OperationRun.objects.count() == 3


def test_signed_requests(personas, operation):
    _trigger, shown = trigger_save(operation=operation, mode="hmac", user=personas["admin"])
    body = json.dumps(records(2)).encode()
    now = str(int(time.time()))
    good = signature_for(shown.signing_secret, now, body)
    ok = post(shown.url_path, body, X_Signature_Timestamp=now, X_Signature=good)
    assert ok.status_code == 202, ok.content
    replayed = post(shown.url_path, body, X_Signature_Timestamp=now, X_Signature=good)
    assert replayed.status_code == 409
    assert "already received" in replayed.json()["detail"]

    def refused(**headers) -> str:
        response = post(shown.url_path, body, **headers)
        assert response.status_code == 401, response.content
        return response.json()["detail"]

    assert "send X-Signature-Timestamp" in refused()
    assert "does not match" in refused(X_Signature_Timestamp=now, X_Signature="sha256=" + "0" * 64)
    tampered = signature_for(shown.signing_secret, now, body + b" ")
    assert "does not match" in refused(X_Signature_Timestamp=now, X_Signature=tampered)
    old = str(int(time.time()) - 3600)
    stale = signature_for(shown.signing_secret, old, body)
    assert "too old" in refused(X_Signature_Timestamp=old, X_Signature=stale)
    wrong_key = signature_for("whsec_guess", now, body)
    assert "does not match" in refused(X_Signature_Timestamp=now, X_Signature=wrong_key)
    assert OperationRun.objects.count() == 1


def test_unknown_disabled_and_unrunnable_triggers(personas, operation):
    assert post("/api/v1/hooks/nope/").status_code == 404
    trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    ApiTrigger.objects.filter(pk=trigger.pk).update(enabled=False)
    assert post(shown.url_path).status_code == 403
    ApiTrigger.objects.filter(pk=trigger.pk).update(enabled=True)
    operation.steps.filter(kind="source").delete()  # its source is its first step
    refused = post(shown.url_path)
    assert refused.status_code == 409
    assert "has no source activity" in refused.json()["detail"]


def test_trigger_keys_stay_out_of_the_logs(personas, operation, caplog):
    caplog.set_level(logging.DEBUG)
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    key = shown.url_path.split("/")[-2]
    assert post(shown.url_path, "{bad").status_code == 400  # Django logs 4xx with the path
    assert post(shown.url_path.replace(key, key[:-1] + "x")).status_code == 404
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/v1/hooks/" in logged
    assert key not in logged
    assert key[:-1] not in logged


def test_the_cap_on_waiting_runs_with_records_is_a_429(personas, operation, settings):
    settings.RUNS_MAX_PENDING_WITH_INPUT = 2
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    answers = [post(shown.url_path, "[{}]") for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2]["Retry-After"] == "10"
    assert "already waiting" in answers[2].json()["detail"]
    assert OperationRun.objects.count() == 2
    # Without records, a second start finds the operation already queued: 409.
    assert post(shown.url_path).status_code == 202
    again = post(shown.url_path)
    assert again.status_code == 409
    assert "already queued" in again.json()["detail"]
