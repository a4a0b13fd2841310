"""Over real HTTP: ``requests`` against a live server, runs executed by real Celery worker
processes. Start and wait, read the log, fetch failed records, re-run them; a webhook of
1,000 records to the Constant Contact sandbox; a signed trigger with a bad signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import requests

from designer.api.triggers import trigger_save
from designer.runs.models import OperationRun, RunStatus, RunTrigger
from tests.factories import (
    ActivityFactory,
    OperationFactory,
    TransformationFactory,
)
from tests.fixtures.sandbox import cc_connection
from tests.runs.conftest import make_operation, new_queue

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 30  # seconds per HTTP call (the server itself answers at once or after ?wait)


@pytest.fixture
def queued_project(project, shared_worker):
    project.agent_group = shared_worker.queue
    project.save()
    return project


def session(token: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def test_start_wait_log_failures_and_rerun_over_http(live_server, queued_project, token_for):
    operation = make_operation(queued_project, count=12, page=5, batch=5, fail_every=4)
    http = session(token_for("operator"))
    base = live_server.url
    project_id = queued_project.pk

    started = http.post(
        f"{base}/api/v1/projects/{project_id}/operations/{operation.pk}/runs",
        params={"wait": 60},
        timeout=90,
    )
    assert started.status_code == 200, started.text
    body = started.json()
    run = body["run"]
    assert body["status_url"] == f"/api/v1/projects/{project_id}/runs/{body['run_id']}"
    assert run["status"] == RunStatus.WARNING, run["message"]
    assert (run["source_records"], run["target_records"], run["failed_records"]) == (12, 9, 3)
    assert run["trigger"] == RunTrigger.API and run["triggered_by"] == "operator"
    assert [f["index"] for f in run["failures"]] == [0, 4, 8]

    status = http.get(base + body["status_url"], timeout=TIMEOUT).json()
    assert status["is_final"] and status["failed_records"] == 3

    log = http.get(base + run["links"]["log"], timeout=TIMEOUT).json()
    messages = [line["message"] for line in log["results"]]
    assert any("Queued" in m and "by operator" in m for m in messages), messages
    assert log["next"] is None

    failures = http.get(base + run["links"]["failures"], timeout=TIMEOUT).json()["results"]
    assert [f["index"] for f in failures] == [0, 4, 8]
    assert all(f["record"] is not None for f in failures)
    csv_text = http.get(base + run["links"]["failures_csv"], timeout=TIMEOUT)
    assert csv_text.headers["Content-Type"].startswith("text/csv")
    assert len(csv_text.text.strip().splitlines()) == 1 + 3

    rerun = http.post(
        f"{base}/api/v1/projects/{project_id}/runs/{body['run_id']}/rerun", timeout=TIMEOUT
    )
    assert rerun.status_code == 202, rerun.text
    again = http.get(base + rerun.json()["status_url"], params={"wait": 60}, timeout=90).json()
    assert again["is_final"], again
    assert again["parent_id"] == body["run_id"] and again["source_records"] == 3
    assert OperationRun.objects.get(pk=again["id"]).trigger == RunTrigger.RERUN


def test_cancel_over_http(live_server, queued_project, token_for):
    operation = make_operation(queued_project, count=400, page=10, batch=10, delay=0.2)
    http = session(token_for("operator"))
    base = f"{live_server.url}/api/v1/projects/{queued_project.pk}"
    started = http.post(f"{base}/operations/{operation.pk}/runs", timeout=TIMEOUT).json()
    run_id = started["run_id"]
    canceled = http.post(f"{base}/runs/{run_id}/cancel", timeout=TIMEOUT)
    assert canceled.status_code == 200, canceled.text
    final = http.get(f"{base}/runs/{run_id}", params={"wait": 60}, timeout=90).json()
    assert final["status"] == RunStatus.CANCELED, final
    again = http.post(f"{base}/runs/{run_id}/cancel", timeout=TIMEOUT)
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"


def _constant_contact_create(project, cc_sandbox, cc_tokens):
    connection = cc_connection(project, cc_sandbox, cc_tokens)
    query = ActivityFactory(connection=connection, activity_type="query", config={})
    create = ActivityFactory(
        connection=connection,
        activity_type="create",
        config={
            "mode": "bulk",
            "create_source": "Account",
            "list_ids": [cc_sandbox.list_id("Customers")],
        },
    )
    return OperationFactory(
        project=project,
        name="Webhook to contacts",
        source=query,
        target=create,
        transformation=TransformationFactory(
            project=project,
            mapping=[
                {"target": "email", "kind": "path", "value": "email"},
                {"target": "first_name", "kind": "path", "value": "first"},
            ],
        ),
    )


def test_a_webhook_of_1000_records_reaches_constant_contact(
    live_server, project, personas, workers, cc_sandbox, cc_tokens
):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    operation = _constant_contact_create(project, cc_sandbox, cc_tokens)
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    workers.start(queue, extra_env={"CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url})
    records = [{"email": f"hook{i}@example.com", "first": f"Hook{i}"} for i in range(1000)]

    answer = requests.post(
        live_server.url + shown.url_path, params={"wait": 120}, json=records, timeout=180
    )

    assert answer.status_code == 200, answer.text
    run = answer.json()["run"]
    assert run["status"] == RunStatus.SUCCESS, (run["message"], run["failures"][:2])
    assert (run["source_records"], run["target_records"], run["failed_records"]) == (1000, 1000, 0)
    assert run["trigger"] == RunTrigger.API_TRIGGER and run["failures"] == []
    assert len(cc_sandbox.contacts) == 1000
    assert cc_sandbox.contact_by_email("hook999@example.com")["first_name"] == "Hook999"
    # The body is kept with the run (for its page and for re-runs).
    assert OperationRun.objects.get(pk=run["id"]).input_records == records


def test_a_signed_trigger_refuses_a_bad_signature_over_http(live_server, queued_project, personas):
    operation = make_operation(queued_project, count=1)
    _trigger, shown = trigger_save(operation=operation, mode="hmac", user=personas["admin"])
    url = live_server.url + shown.url_path
    body = json.dumps([{"email": "signed@example.com"}]).encode()
    now = str(int(time.time()))

    def signed(secret: str) -> dict[str, str]:
        mac = hmac.new(secret.encode(), now.encode() + b"." + body, hashlib.sha256)
        return {
            "Content-Type": "application/json",
            "X-Signature-Timestamp": now,
            "X-Signature": "sha256=" + mac.hexdigest(),
        }

    bad = requests.post(url, data=body, headers=signed("whsec_wrong"), timeout=TIMEOUT)
    assert bad.status_code == 401
    assert bad.headers["Content-Type"] == "application/problem+json"
    assert bad.json()["detail"] == "The signature does not match the body."
    unsigned = requests.post(url, data=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert not OperationRun.objects.filter(operation=operation).exists()

    good = requests.post(
        url, data=body, headers=signed(shown.signing_secret), params={"wait": 60}, timeout=90
    )
    assert good.status_code == 200, good.text
    assert good.json()["run"]["status"] == RunStatus.SUCCESS
    assert good.json()["run"]["source_records"] == 1
