"""The API's frame: OpenAPI document and docs page, token authentication, problem details,
cursor pagination, auditing of token use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from designer.api.models import ApiToken
from designer.api.tokens import token_revoke
from designer.audit.models import AuditEntry
from designer.runs.models import OperationRun, RunStatus
from tests.api.conftest import ApiClient
from tests.runs.conftest import make_operation

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_openapi_document_and_docs_page(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert "/api/v1/projects/{project_id}/operations/{operation_id}/runs" in paths
    assert "/api/v1/hooks/{key}/" in paths
    start = paths["/api/v1/projects/{project_id}/operations/{operation_id}/runs"]["post"]
    assert {"202", "401", "403", "404", "409", "422", "429"} <= set(start["responses"])
    problem = start["responses"]["403"]["content"]["application/problem+json"]["schema"]
    assert "detail" in problem["properties"]
    csv = paths["/api/v1/projects/{project_id}/runs/{run_id}/failures.csv"]["get"]
    assert list(csv["responses"]["200"]["content"]) == ["text/csv"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "POST /api/v1/projects/{project_id}/operations/{operation_id}/runs" in page
    assert "Token scope <strong>run</strong>" in page
    assert "application/problem+json" in page


def test_without_a_token_the_answer_is_a_401_problem(client, project):
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and "token" in body["detail"]


def test_an_unknown_api_url_is_a_problem_not_a_page(client):
    response = client.get("/api/v1/nothing/here")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert "/api/v1/docs" in response.json()["detail"]


def test_an_unknown_token_is_refused(project):
    response = ApiClient("idt_not-a-real-token").get("/api/v1/projects")
    assert response.status_code == 401
    assert response.json()["detail"] == "This API token is not valid."


def test_a_token_lists_its_users_projects_with_the_role(api_for, project, personas):
    response = api_for("operator").get("/api/v1/projects")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(p["id"], p["role"]) for p in body["results"]] == [(project.pk, "operator")]
    assert api_for("outsider").get("/api/v1/projects").json()["results"] == []


def test_revoked_expired_and_deactivated_tokens_stop_at_once(token_for, personas, project):
    raw = token_for("viewer")
    client = ApiClient(raw)
    assert client.get(f"/api/v1/projects/{project.pk}").status_code == 200
    token = ApiToken.objects.get(user=personas["viewer"])
    assert token.last_used_at is not None

    user = personas["viewer"]
    user.is_active = False
    user.save()
    response = client.get(f"/api/v1/projects/{project.pk}")
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]
    user.is_active = True
    user.save()
    assert client.get(f"/api/v1/projects/{project.pk}").status_code == 200

    assert token_revoke(token=token)
    response = client.get(f"/api/v1/projects/{project.pk}")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]

    expiring = ApiClient(token_for("viewer", expires_at=timezone.now() + timedelta(seconds=60)))
    assert expiring.get("/api/v1/projects").status_code == 200
    ApiToken.objects.filter(revoked_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = expiring.get("/api/v1/projects")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_token_without_the_run_scope_cannot_start(api_for, project):
    operation = make_operation(project)
    response = api_for("admin", scopes=("read",)).post(
        f"/api/v1/projects/{project.pk}/operations/{operation.pk}/runs"
    )
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert "“run” scope" in response.json()["detail"]
    assert not OperationRun.objects.exists()
    # And a run-only token can't read.
    response = api_for("admin", scopes=("run",)).get(f"/api/v1/projects/{project.pk}/runs")
    assert response.status_code == 403


def test_validation_errors_name_the_field(api_for, project):
    operation = make_operation(project)
    client = api_for("editor")
    response = client.post(
        f"/api/v1/projects/{project.pk}/operations/{operation.pk}/runs?wait=soon"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["wait"]
    response = client.get(f"/api/v1/projects/{project.pk}/runs", status="finished")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    response = client.get(f"/api/v1/projects/{project.pk}/runs", cursor="%%%")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_run_lists_use_cursor_pagination_newest_first(api_for, project):
    operation = make_operation(project)
    runs = [
        OperationRun.objects.create(
            project=project, operation=operation, trigger="manual", queue="q"
        )
        for _ in range(5)
    ]
    client = api_for("viewer")
    seen: list[int] = []
    url = f"/api/v1/projects/{project.pk}/runs?page_size=2"
    pages = 0
    while url:
        body = client.get(url).json()
        seen += [run["id"] for run in body["results"]]
        url = body["next"]
        pages += 1
    assert seen == [run.pk for run in reversed(runs)]
    assert pages == 3
    # A run created meanwhile does not shift the pages already handed out.
    first = client.get(f"/api/v1/projects/{project.pk}/runs?page_size=2").json()
    OperationRun.objects.create(project=project, operation=operation, trigger="manual", queue="q")
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [runs[2].pk, runs[1].pk]


def test_token_use_is_audited_with_who_which_token_and_what(api_for, project, personas, client_for):
    make_operation(project)
    api_for("operator").get(f"/api/v1/projects/{project.pk}/operations")
    entry = AuditEntry.objects.get(action="api_call")
    assert entry.actor == personas["operator"]
    assert entry.project == project
    assert entry.component_kind == "api_token"
    assert "operator CI" in entry.component_name
    assert f"GET /api/v1/projects/{project.pk}/operations" in entry.component_name
    # And it reads in the project's history like any other entry.
    history = client_for("admin").get(f"/projects/{project.pk}/history/")
    assert history.status_code == 200
    assert "operator CI" in history.content.decode()


def test_refused_token_calls_are_audited_without_the_project(api_for, project, personas):
    operation = make_operation(project)
    start = f"/api/v1/projects/{project.pk}/operations/{operation.pk}/runs"
    api_for("outsider").post(start)
    api_for("viewer").post(start)
    api_for("admin", scopes=("read",)).post(start)
    entries = AuditEntry.objects.filter(action="api_call").order_by("id")
    assert [(e.actor.username, e.project) for e in entries] == [
        ("outsider", None),
        ("viewer", None),
        ("admin", None),
    ]
    names = [e.component_name for e in entries]
    assert names[0].endswith("refused (404)") and names[1].endswith("refused (403)")
    assert names[2].endswith("refused: no run scope")


def test_unfinished_run_status_and_finished_result(api_for, project):
    from designer.runs.models import RecordFailure

    operation = make_operation(project)
    run = OperationRun.objects.create(
        project=project, operation=operation, trigger="manual", queue="q"
    )
    client = api_for("viewer")
    body = client.get(f"/api/v1/projects/{project.pk}/runs/{run.pk}").json()
    assert body["status"] == "pending" and body["failures"] is None
    OperationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.WARNING, source_records=2, target_records=1, failed_records=1
    )
    RecordFailure.objects.create(
        run=run, index=1, key="b@x.org", error_key="invalid", error_message="bad", record={"a": 1}
    )
    body = client.get(f"/api/v1/projects/{project.pk}/runs/{run.pk}").json()
    assert body["is_final"] and body["target_records"] == 1
    assert body["failures"] == [
        {"index": 1, "key": "b@x.org", "error_key": "invalid", "error_message": "bad"}
    ]
    failures = client.get(body["links"]["failures"]).json()["results"]
    assert failures[0]["record"] == {"a": 1}
    csv_response = client.get(body["links"]["failures_csv"])
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response.content.decode().splitlines()[0] == (
        "a,_step,_step_kind,_error_key,_error_message"
    )


def test_a_second_start_of_a_queued_operation_is_a_409(api_for, project):
    operation = make_operation(project)
    client = api_for("operator")
    url = f"/api/v1/projects/{project.pk}/operations/{operation.pk}/runs"
    assert client.post(url).status_code == 202
    again = client.post(url)
    assert again.status_code == 409
    assert again["Content-Type"] == PROBLEM
    assert "already queued" in again.json()["detail"]
    assert OperationRun.objects.count() == 1


def test_workflows_and_operations_with_their_steps(api_for, project):
    from designer.design.models import Workflow

    first = make_operation(project, name="Export")
    second_tab = Workflow.objects.create(project=project, name="Nightly", order=1)
    other = make_operation(project, name="Import", workflow=second_tab)
    client = api_for("viewer")
    base = f"/api/v1/projects/{project.pk}"
    workflows = client.get(f"{base}/workflows").json()["results"]
    assert [(w["name"], w["operation_ids"]) for w in workflows] == [
        (first.workflow.name, [first.pk]),
        ("Nightly", [other.pk]),
    ]
    assert client.get(f"{base}/workflows/{second_tab.pk}").json()["operation_ids"] == [other.pk]
    listed = client.get(f"{base}/operations", workflow_id=second_tab.pk).json()["results"]
    assert [o["name"] for o in listed] == ["Import"]
    steps = listed[0]["steps"]
    assert [s["kind"] for s in steps] == ["source", "transformation", "target"]
    assert steps[0]["name"] == other.source.name
    assert client.get(f"{base}/workflows/999999").status_code == 404
