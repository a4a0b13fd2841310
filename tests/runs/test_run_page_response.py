"""The run page's Response section: the records a synchronous run answers with (RunResponse),
shown with their count, how many were kept and whether they were truncated, masked as stored."""

from __future__ import annotations

import html
import json

import pytest

from designer.runs import engine
from designer.runs.models import OperationRun, RunResponse, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import SECRET, make_operation

pytestmark = pytest.mark.django_db


def page_of(client, run: OperationRun) -> str:
    response = client.get(f"/projects/{run.project_id}/runs/{run.pk}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def answered_run(project, *, count: int) -> OperationRun:
    """A run that asked for its records (as ?wait=N does), executed in this process."""
    run = run_start(operation=make_operation(project, count=count), trigger=RunTrigger.MANUAL)
    RunResponse.objects.create(run=run)
    run = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert run.status == RunStatus.SUCCESS, run.message
    return run


def test_the_run_page_shows_the_response_records(project, client_for):
    run = answered_run(project, count=3)
    body = page_of(client_for("viewer"), run)
    section = body.split('id="run-response"')[1]
    assert "Response (3 records)" in body
    assert "3 reached the end of the chain, 3 kept." in section
    assert "truncated" not in section
    # A readable table: one row per record, the target's result beside the record's fields.
    table = section.split("<table")[1].split("</table>")[0]
    assert '<th scope="col">record.email</th>' in table and ">ok<" in table
    assert table.count("<tr>") == 4  # header + 3 records
    assert "r0@example.com" in table and "r2@example.com" in table
    # And the exact JSON, as kept.
    kept = RunResponse.objects.get(run=run).records
    assert json.dumps(kept, indent=2, ensure_ascii=False) in section
    assert SECRET not in body


def test_a_truncated_response_says_so(project, client_for, settings):
    settings.RUN_RESPONSE_MAX_RECORDS = 2
    run = answered_run(project, count=5)
    section = page_of(client_for("viewer"), run).split('id="run-response"')[1]
    assert "5 reached the end of the chain, 2 kept, <strong>truncated</strong>" in section
    assert "r1@example.com" in section and "r2@example.com" not in section


def test_records_are_shown_masked_as_stored(project, client_for):
    run = run_start(operation=make_operation(project), trigger=RunTrigger.MANUAL)
    OperationRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCESS)
    RunResponse.objects.create(
        run=run,
        records=[{"email": "a@example.com", "access_token": "[redacted]"}],
        count=1,
    )
    body = page_of(client_for("viewer"), run)
    section = body.split('id="run-response"')[1]
    assert "access_token" in section and "[redacted]" in section


def test_no_response_section_without_a_run_response(project, client_for):
    run = run_start(operation=make_operation(project, count=3), trigger=RunTrigger.MANUAL)
    run = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert run.status == RunStatus.SUCCESS
    body = page_of(client_for("viewer"), run)
    assert 'id="run-response"' not in body and "Response as JSON" not in body


def test_outsiders_get_a_404_for_a_run_with_a_response(project, client_for):
    run = answered_run(project, count=1)
    response = client_for("outsider").get(f"/projects/{project.pk}/runs/{run.pk}/")
    assert response.status_code == 404
    assert b"r0@example.com" not in response.content
