"""The "API request" source: an operation whose records only ever come from its trigger."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from connectors.api_request.connector import NOT_TRIGGERED
from connectors.registry import get_connector
from designer.api.triggers import trigger_save
from designer.runs import engine
from designer.runs.models import OperationRun, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hooked(project):
    requests = ConnectionFactory(project=project, connector_key="api_request", name="Requests")
    body = ActivityFactory(
        connection=requests,
        activity_type="request",
        name="Signup",
        config={"fields": ["email", "first"]},
    )
    fake = ConnectionFactory(project=project, connector_key="fake", config={"ledger": ""})
    sink = ActivityFactory(
        connection=fake, activity_type="sink", config={"batch": 100, "fail_every": 0}
    )
    mapping = TransformationFactory(
        project=project, mapping=[{"target": "email", "kind": "path", "value": "email"}]
    )
    return OperationFactory(project=project, source=body, target=sink, transformation=mapping)


def test_the_palette_offers_it_and_its_fields_are_the_source_schema(client_for, project):
    page = client_for("editor").get(f"/projects/{project.pk}/")
    assert "API request" in page.content.decode()
    schema = (
        get_connector("api_request")
        .activity_type("request")
        .response_schema({"fields": ["email", " first ", ""]})
    )
    assert list(schema["properties"]) == ["email", "first"]


def test_a_triggered_run_takes_the_request_body(hooked, personas):
    _trigger, shown = trigger_save(operation=hooked, mode="secret_url", user=personas["admin"])
    body = [{"email": f"p{i}@example.com", "first": f"P{i}"} for i in range(7)]
    answer = Client().post(shown.url_path, json.dumps(body), content_type="application/json")
    assert answer.status_code == 202
    run = engine.execute(run_id=answer.json()["run_id"], agent_name="inproc@test")
    assert run.status == RunStatus.SUCCESS, run.message
    assert (run.source_records, run.target_records, run.failed_records) == (7, 7, 0)
    assert run.trigger == RunTrigger.API_TRIGGER


def test_run_without_a_request_says_how_to_start_it(hooked):
    run = run_start(operation=hooked, trigger=RunTrigger.MANUAL)
    run = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert run.status == RunStatus.ERROR
    assert NOT_TRIGGERED in run.message or any(
        NOT_TRIGGERED in line for line in run.log_lines.values_list("message", flat=True)
    )
    assert OperationRun.objects.count() == 1
