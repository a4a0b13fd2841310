"""Synchronous triggers over real HTTP (issue 13): a POST with ?wait=N answers with the
records of the operation's last step - the last target's per-record results, or what a
response transformation after it made of them - next to the run's id, status and counts.
A live server, real Celery workers, the Constant Contact sandbox."""

from __future__ import annotations

import json
import time

import pytest
import requests

from designer.api.tokens import token_create
from designer.api.triggers import signature_for, trigger_save
from designer.design.models import Transformation
from designer.runs import engine
from designer.runs.models import OperationRun, RunResponse, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.fixtures.sandbox import cc_connection
from tests.runs.chains import add
from tests.runs.conftest import SECRET, make_operation, new_queue

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAIT = {"wait": 90}
TIMEOUT = 120


def _signup_to_contacts(project, cc_sandbox, cc_tokens):
    """API request -> transformation -> Create contacts (one by one: each gets its id)."""
    requests_in = ConnectionFactory(project=project, connector_key="api_request", name="Requests")
    body = ActivityFactory(
        connection=requests_in,
        activity_type="request",
        name="Sign-up",
        config={"fields": ["email", "first"]},
    )
    create = ActivityFactory(
        connection=cc_connection(project, cc_sandbox, cc_tokens),
        activity_type="create",
        name="Create contacts",
        config={"mode": "single", "create_source": "Account", "on_duplicate": "fail"},
    )
    return OperationFactory(
        project=project,
        name="Sign-up API",
        source=body,
        target=create,
        transformation=TransformationFactory(
            project=project,
            mapping=[
                {"target": "email_address.address", "kind": "path", "value": "email"},
                {"target": "first_name", "kind": "path", "value": "first"},
            ],
        ),
    )


@pytest.fixture
def cc_queue(project, workers, cc_sandbox):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    workers.start(queue, extra_env={"CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url})
    return queue


def _secrets_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret and secret not in text


def test_a_synchronous_trigger_answers_with_the_created_contacts(
    live_server, project, personas, cc_sandbox, cc_tokens, cc_queue
):
    operation = _signup_to_contacts(project, cc_sandbox, cc_tokens)
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    people = [
        {"email": "ann@example.com", "first": "Ann"},
        {"email": "not-an-email", "first": "Bad"},
        {"email": "bob@example.com", "first": "Bob"},
    ]

    answer = requests.post(live_server.url + shown.url_path, params=WAIT, json=people, timeout=120)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == RunStatus.WARNING and body["run"]["failed_records"] == 1
    assert (body["run"]["source_records"], body["run"]["target_records"]) == (3, 2)
    response = body["response"]
    assert (response["count"], response["truncated"]) == (3, False)
    assert len(response["records"]) == 3
    ann, bad, bob = response["records"]  # in the order sent, one per record
    assert ann["ok"] and ann["action"] == "created"
    assert ann["id"] == cc_sandbox.contact_by_email("ann@example.com")["contact_id"]
    assert bob["id"] == cc_sandbox.contact_by_email("bob@example.com")["contact_id"]
    assert ann["record"]["email_address"]["address"] == "ann@example.com"
    assert not bad["ok"] and bad["error_key"] == "validation" and not bad["id"]
    # The run resource shows the same records.
    token = _read_token(personas)
    again = requests.get(
        live_server.url + body["status_url"],
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    ).json()
    assert again["response"] == response
    # No credential in the answer: the connection's tokens and client secret, the URL key.
    key = shown.url_path.rstrip("/").rsplit("/", 1)[1]
    _secrets_absent(
        answer.text, cc_tokens["access_token"], cc_tokens["refresh_token"], key, "client_secret"
    )


def _read_token(personas) -> str:
    return token_create(user=personas["viewer"], name="read", scopes=["read"])[1]


def test_a_response_transformation_after_the_target_shapes_the_answer(
    live_server, project, personas, cc_sandbox, cc_tokens, cc_queue
):
    operation = _signup_to_contacts(project, cc_sandbox, cc_tokens)
    reply = add(operation, "transformation")
    Transformation.objects.filter(pk=reply.transformation_id).update(
        mapping=[
            {"target": "contact_id", "kind": "path", "value": "id"},
            {"target": "email", "kind": "path", "value": "record.email_address.address"},
            {"target": "result", "kind": "path", "value": "action"},
        ]
    )
    _trigger, shown = trigger_save(operation=operation, mode="hmac", user=personas["admin"])
    people = [{"email": f"p{i}@example.com", "first": f"P{i}"} for i in range(4)]
    data = json.dumps(people).encode()
    now = str(int(time.time()))
    answer = requests.post(
        live_server.url + shown.url_path,
        params=WAIT,
        data=data,
        headers={
            "Content-Type": "application/json",
            "X-Signature-Timestamp": now,
            "X-Signature": signature_for(shown.signing_secret, now, data),
        },
        timeout=TIMEOUT,
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == RunStatus.SUCCESS, body["run"]["message"]
    assert body["response"]["records"] == [
        {
            "contact_id": cc_sandbox.contact_by_email(f"p{i}@example.com")["contact_id"],
            "email": f"p{i}@example.com",
            "result": "created",
        }
        for i in range(4)
    ]
    assert (body["response"]["count"], body["response"]["truncated"]) == (4, False)
    _secrets_absent(answer.text, shown.signing_secret, cc_tokens["access_token"])


def test_past_the_bound_the_answer_says_truncated(live_server, project, personas, workers):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    workers.start(queue, extra_env={"RUN_RESPONSE_MAX_RECORDS": "5"})
    operation = make_operation(project, count=1, batch=4)
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    people = [{"email": f"t{i}@example.com", "api_key": SECRET} for i in range(12)]

    answer = requests.post(live_server.url + shown.url_path, params=WAIT, json=people, timeout=120)

    assert answer.status_code == 200, answer.text
    response = answer.json()["response"]
    assert answer.json()["run"]["target_records"] == 12
    assert (response["count"], response["truncated"]) == (12, True)
    assert len(response["records"]) == 5
    assert [r["record"]["email"] for r in response["records"]] == [
        f"t{i}@example.com" for i in range(5)
    ]
    assert SECRET not in answer.text  # a secret-named field is masked, as in the log


def test_only_runs_that_wait_keep_a_response(live_server, queued_project, personas):
    operation = make_operation(queued_project, count=1)
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    started = requests.post(live_server.url + shown.url_path, json=[{"n": 1}], timeout=TIMEOUT)
    assert started.status_code == 202 and started.json()["response"] is None
    assert not RunResponse.objects.filter(run_id=started.json()["run_id"]).exists()


@pytest.fixture
def queued_project(project, shared_worker):
    project.agent_group = shared_worker.queue
    project.save()
    return project


def test_the_byte_bound_cuts_before_the_record_that_would_pass_it(project, settings):
    """In process (the bound is the worker's setting): 1,000 bytes hold a few records."""
    settings.RUN_RESPONSE_MAX_BYTES = 1000
    operation = make_operation(project, count=1, batch=10)
    run = run_start(
        operation=operation,
        trigger=RunTrigger.API_TRIGGER,
        records=[{"email": f"b{i}@example.com", "pad": "x" * 100} for i in range(30)],
    )
    RunResponse.objects.create(run=run)
    run = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert run.status == RunStatus.SUCCESS, run.message
    kept = OperationRun.objects.get(pk=run.pk).response
    assert kept.count == 30 and kept.truncated
    assert 0 < len(kept.records) < 30
    assert kept.size_bytes <= 1000
    assert len(json.dumps(kept.records)) <= 1000 + 10
