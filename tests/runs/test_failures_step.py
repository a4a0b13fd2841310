"""A run's failed records say which step each failure came from (its name and kind): the run
page, its CSV download, and the API's failures list and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from designer.api.tokens import token_create
from designer.design.models import Step
from designer.runs import engine
from designer.runs.models import OperationRun, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.api.conftest import ApiClient
from tests.runs.chains import add, chain

pytestmark = pytest.mark.django_db


def failed_run(project, tmp_path) -> tuple[OperationRun, Step, Step]:
    """source -> transformation -> script (fails on ids divisible by 5) -> target (fails on
    ids divisible by 7): failures at two steps of two kinds."""
    operation, steps = chain(project, tmp_path, count=15, fail_every=7)
    script = add(operation, "script", position=2, config={"script": "ratio = 10 / (id % 5)"})
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    run = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert run.status == RunStatus.WARNING, run.message
    return run, script, steps["target"]


def csv_rows(content: bytes) -> dict[str, dict[str, str]]:
    return {row["email"]: row for row in csv.DictReader(io.StringIO(content.decode()))}


def test_the_failures_csv_names_the_step_of_each_failure(project, client_for, tmp_path):
    run, script, _target = failed_run(project, tmp_path)
    names = dict(run.failures.values_list("key", "step_name"))
    assert names["r0@example.com"] and names["r7@example.com"]
    assert names["r0@example.com"] != names["r7@example.com"]
    client = client_for("viewer")
    download = client.get(f"/projects/{project.pk}/runs/{run.pk}/failures.csv")
    header = download.content.decode().splitlines()[0]
    assert header.endswith(",_step,_step_kind,_error_key,_error_message")
    rows = csv_rows(download.content)
    assert set(rows) == {f"r{i}@example.com" for i in (0, 5, 10, 7, 14)}
    for i in (0, 5, 10):
        row = rows[f"r{i}@example.com"]
        assert (row["_step"], row["_step_kind"]) == (names["r0@example.com"], "script")
    for i in (7, 14):
        row = rows[f"r{i}@example.com"]
        assert (row["_step"], row["_step_kind"]) == (names["r7@example.com"], "target")
        assert row["_error_key"] == "contacts.api.conflict"
    # The run page's table says it too.
    page = client.get(f"/projects/{project.pk}/runs/{run.pk}/").content.decode()
    assert "(Script)" in page and "(Target)" in page

    # A step deleted since keeps its name (as it was when the record failed), not its kind.
    Step.objects.filter(pk=script.pk).delete()
    rows = csv_rows(client.get(f"/projects/{project.pk}/runs/{run.pk}/failures.csv").content)
    assert (rows["r5@example.com"]["_step"], rows["r5@example.com"]["_step_kind"]) == (
        names["r0@example.com"],
        "",
    )


def test_the_api_failures_name_the_step_of_each_failure(project, personas, tmp_path):
    run, _script, _target = failed_run(project, tmp_path)
    names = dict(run.failures.values_list("key", "step_name"))
    _token, raw = token_create(user=personas["viewer"], name="CI", scopes=["read"])
    api = ApiClient(raw)
    base = f"/api/v1/projects/{project.pk}/runs/{run.pk}"
    listed = {f["key"]: f for f in api.get(f"{base}/failures").json()["results"]}
    assert (listed["r5@example.com"]["step_name"], listed["r5@example.com"]["step_kind"]) == (
        names["r5@example.com"],
        "script",
    )
    assert (listed["r14@example.com"]["step_name"], listed["r14@example.com"]["step_kind"]) == (
        names["r14@example.com"],
        "target",
    )
    rows = csv_rows(api.get(f"{base}/failures.csv").content)
    assert rows["r14@example.com"]["_step_kind"] == "target"
    assert rows["r5@example.com"]["_step"] == names["r5@example.com"]
