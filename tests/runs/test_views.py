"""Run pages, logs, downloads, settings and schedules through the test client."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from designer.runs import engine
from designer.runs.models import OperationRun, RunStatus, RunTrigger, Schedule
from designer.runs.schedules import next_run_at, schedule_fire, schedule_save
from designer.runs.selectors import last_runs_by_operation
from designer.runs.services import RunRefused, run_start
from tests.factories import ProjectFactory
from tests.runs.conftest import make_operation

pytestmark = pytest.mark.django_db


def finished_run(operation, **kwargs) -> OperationRun:
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL, **kwargs)
    return engine.execute(run_id=run.pk, agent_name="inproc@test")


def test_run_button_htmx_returns_the_status_partial(project, client_for):
    operation = make_operation(project)
    response = client_for("editor").post(
        f"/projects/{project.pk}/operations/{operation.pk}/run/", HTTP_HX_REQUEST="true"
    )
    run = OperationRun.objects.get()
    assert response.status_code == 200
    body = response.content.decode()
    assert "Pending" in body and f"/projects/{project.pk}/runs/{run.pk}/" in body
    assert 'hx-trigger="every 1s"' in body  # polls while active
    assert "<html" not in body


def test_run_button_refusal_is_explained(project, client_for):
    operation = make_operation(project)
    operation.steps.filter(kind="source").delete()  # its source is its first step
    client = client_for("operator")
    url = f"/projects/{project.pk}/operations/{operation.pk}/run/"
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "has no source activity" in response.content.decode()
    response = client.post(url, follow=True)
    assert "has no source activity" in response.content.decode()
    assert not OperationRun.objects.exists()


def test_operation_of_another_project_is_404(project, client_for):
    other = make_operation(ProjectFactory())
    response = client_for("admin").post(f"/projects/{project.pk}/operations/{other.pk}/run/")
    assert response.status_code == 404


def test_run_page_shows_counters_log_and_failures(project, client_for):
    run = finished_run(make_operation(project, count=20, fail_every=10))
    body = client_for("viewer").get(f"/projects/{project.pk}/runs/{run.pk}/").content.decode()
    assert "Success with Warning" in body
    assert "20 source records" in body and "18 target records, 2 failed" in body
    assert "r10@example.com" in body and "contacts.api.conflict" in body
    assert "Email already exists for contact 10" in body
    assert "Started on agent inproc@test." in body
    assert "Re-run failed records" not in body  # viewers can't run


def test_failed_records_download_in_the_source_shape(project, client_for):
    run = finished_run(make_operation(project, count=20, fail_every=10))
    client = client_for("viewer")
    as_json = client.get(f"/projects/{project.pk}/runs/{run.pk}/failures.json")
    assert as_json["Content-Disposition"] == (
        f'attachment; filename="run-{run.pk}-failed-records.json"'
    )
    assert json.loads(as_json.content) == [
        {"id": 0, "email": "r0@example.com", "name": "Record 0"},
        {"id": 10, "email": "r10@example.com", "name": "Record 10"},
    ]
    as_csv = client.get(f"/projects/{project.pk}/runs/{run.pk}/failures.csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert rows[1] == {
        "id": "10",
        "email": "r10@example.com",
        "name": "Record 10",
        "_step": rows[1]["_step"],
        "_step_kind": "target",
        "_error_key": "contacts.api.conflict",
        "_error_message": "Email already exists for contact 10",
    }
    assert client.get(f"/projects/{project.pk}/runs/{run.pk}/failures.xml").status_code == 404


def test_rerun_button_starts_a_run_of_the_failed_records(project, client_for):
    run = finished_run(make_operation(project, count=20, fail_every=10))
    response = client_for("operator").post(f"/projects/{project.pk}/runs/{run.pk}/rerun/")
    rerun = OperationRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == f"/projects/{project.pk}/runs/{rerun.pk}/"
    assert rerun.trigger == RunTrigger.RERUN and rerun.parent_id == run.pk
    assert [r["id"] for r in rerun.input_records] == [0, 10]


def test_logs_newest_first_filter_by_status_and_search(project, client_for):
    ok_op = make_operation(project, count=3, name="Contacts in")
    bad_op = make_operation(project, count=3, mode="reconnect", name="Contacts out")
    first = finished_run(ok_op)
    second = finished_run(bad_op)
    client = client_for("viewer")
    body = client.get(f"/projects/{project.pk}/runs/").content.decode()
    assert body.index(f'data-run="{second.pk}"') < body.index(f'data-run="{first.pk}"')
    body = client.get(f"/projects/{project.pk}/runs/?status=error").content.decode()
    assert f'data-run="{second.pk}"' in body and f'data-run="{first.pk}"' not in body
    body = client.get(f"/projects/{project.pk}/runs/?q=invalid_grant").content.decode()
    assert f'data-run="{second.pk}"' in body and f'data-run="{first.pk}"' not in body
    body = client.get(f"/projects/{project.pk}/operations/{ok_op.pk}/log/").content.decode()
    assert f'data-run="{first.pk}"' in body and f'data-run="{second.pk}"' not in body
    partial = client.get(f"/projects/{project.pk}/runs/?part=table", HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div id="runs-table"')


def test_last_runs_by_operation_is_one_query(project, django_assert_num_queries):
    a, b = make_operation(project, count=1), make_operation(project, count=1)
    make_operation(project, count=1)  # never ran
    finished_run(a)
    latest_a = finished_run(a)
    latest_b = finished_run(b)
    with django_assert_num_queries(1):
        latest = last_runs_by_operation(project)
        assert {k: v.pk for k, v in latest.items()} == {a.pk: latest_a.pk, b.pk: latest_b.pk}
        assert latest[a.pk].get_status_display() == "Success"


def test_run_settings_refuse_a_loop(project, client_for):
    a = make_operation(project, name="A")
    b = make_operation(project, name="B")
    client = client_for("editor")
    url = f"/projects/{project.pk}/operations/{a.pk}/run-settings/"
    form = {"on_success": b.pk, "timeout_minutes": 30, "on_agent_lost": "requeue"}
    assert client.post(url, form).status_code == 302
    a.refresh_from_db()
    assert (a.on_success_id, a.timeout_seconds, a.on_agent_lost) == (b.pk, 1800, "requeue")
    response = client.post(
        f"/projects/{project.pk}/operations/{b.pk}/run-settings/",
        {"on_fail": a.pk, "timeout_minutes": 120, "on_agent_lost": "error"},
    )
    assert response.status_code == 400
    assert "These actions would loop: B → A → B" in response.content.decode()
    b.refresh_from_db()
    assert b.on_fail_id is None


def test_debug_logging_at_most_two_weeks(project, client_for):
    operation = make_operation(project)
    client = client_for("editor")
    url = f"/projects/{project.pk}/operations/{operation.pk}/debug/"
    too_far = (timezone.now() + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"debug_until": too_far})
    assert response.status_code == 400 and "At most 14 days ahead." in response.content.decode()
    operation.refresh_from_db()
    assert operation.debug_until is None
    soon = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {"debug_until": soon}).status_code == 302
    operation.refresh_from_db()
    assert operation.debug_until > timezone.now() + timedelta(days=2)
    assert run_start(operation=operation, trigger=RunTrigger.MANUAL).debug is True
    assert client.post(url, {"debug_until": ""}).status_code == 302
    operation.refresh_from_db()
    assert operation.debug_until is None


def test_schedules_mirror_into_celery_beat(project, client_for):
    operation = make_operation(project)
    client = client_for("editor")
    url = f"/projects/{project.pk}/operations/{operation.pk}/schedules/"
    bad = client.post(url, {"cron": "every day", "timezone": "UTC", "enabled": "on"})
    assert bad.status_code == 400 and "five fields" in bad.content.decode()
    assert client.post(url, {"cron": "30 6 * * 1-5", "timezone": "UTC", "enabled": "on"})
    schedule = Schedule.objects.get()
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.task == "runs.scheduled" and json.loads(task.args) == [schedule.pk]
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("30", "6", "1-5")
    assert task.enabled and task.queue == project.agent_group
    nxt = next_run_at(schedule)
    assert (nxt.hour, nxt.minute) == (6, 30) and nxt.weekday() < 5 and nxt > timezone.now()
    page = client.get(f"/projects/{project.pk}/operations/{operation.pk}/run-settings/")
    assert "30 6 * * 1-5" in page.content.decode()
    client.post(f"/projects/{project.pk}/schedules/{schedule.pk}/toggle/")
    task.refresh_from_db()
    assert task.enabled is False and next_run_at(Schedule.objects.get()) is None
    client.post(f"/projects/{project.pk}/schedules/{schedule.pk}/delete/")
    assert not Schedule.objects.exists() and not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_a_firing_schedule_starts_a_run(project):
    schedule = schedule_save(operation=make_operation(project), cron="0 * * * *")
    schedule_fire(schedule_id=schedule.pk)
    run = OperationRun.objects.get()
    assert run.trigger == RunTrigger.SCHEDULE and run.status == RunStatus.PENDING


def test_unknown_time_zone_is_refused(project):
    with pytest.raises(RunRefused, match="Unknown time zone"):
        schedule_save(operation=make_operation(project), cron="0 * * * *", tz="Mars/Base")


def test_a_pending_run_says_when_no_agent_serves_its_group(project, client_for):
    from designer.runs.services import agent_heartbeat

    operation = make_operation(project)
    client = client_for("operator")
    url = f"/projects/{project.pk}/operations/{operation.pk}/run/"
    body = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "No agent is online in agent group “default”" in body
    agent_heartbeat(name="w1@host", queues=["default"])
    body = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "No agent is online" not in body


def test_run_operation_command_queues_and_warns_without_agents(project, capsys):
    from django.core.management import call_command

    operation = make_operation(project, name="Nightly")
    call_command("run_operation", project.name, "Nightly")
    out, err = capsys.readouterr()
    run = OperationRun.objects.get(operation=operation)
    assert out == f"Run {run.pk} queued on agent group “default”.\n"
    assert "No agent is online in agent group “default”" in err
    assert run.trigger == RunTrigger.COMMAND and run.status == RunStatus.PENDING


def test_run_operation_command_refuses_unknown_names(project):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="No single operation matches 'Nope'"):
        call_command("run_operation", str(project.pk), "Nope")


def test_log_lines_show_in_time_order_whatever_order_they_were_stored(project, client_for):
    """Issue 16.2: the engine stores its lines in bursts; a cancel written by the web at once
    got a smaller id than the "Started" line before it, and showed first."""
    from designer.runs.models import RunLogLine
    from designer.runs.services import run_log

    run = run_start(operation=make_operation(project), trigger=RunTrigger.MANUAL)
    started = RunLogLine(run=run, message="Started on agent w1.")  # buffered by the engine
    run_log(run_id=run.pk, message="Cancel requested by operator.")
    RunLogLine.objects.bulk_create([started])
    messages = list(run.log_lines.values_list("message", flat=True))
    assert messages.index("Started on agent w1.") < messages.index("Cancel requested by operator.")
    body = client_for("viewer").get(f"/projects/{project.pk}/runs/{run.pk}/").content.decode()
    assert body.index("Started on agent w1.") < body.index("Cancel requested by operator.")


def test_the_running_status_panel_shows_per_record_counts(project, client_for):
    run = run_start(operation=make_operation(project, count=10), trigger=RunTrigger.MANUAL)
    OperationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, total_expected=10, target_records=3, failed_records=1
    )
    body = client_for("viewer").get(f"/projects/{project.pk}/runs/{run.pk}/status/?page=1")
    text = body.content.decode()
    assert "4 of 10 records" in text  # results ahead of the batch's end count
    assert "Written <b>3</b>" in text and "Failed <b>1</b>" in text


def test_the_operation_cards_last_run_badge_refreshes_when_runs_change(project, client_for):
    operation = make_operation(project, count=3)
    client = client_for("viewer")
    url = f"/projects/{project.pk}/operations/{operation.pk}/last-run/"
    assert "Not run yet" in client.get(url).content.decode()
    designer = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'id="last-run-{operation.pk}"' in designer
    assert 'hx-trigger="runs-changed from:body"' in designer
    finished_run(operation)
    badge = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Success" in badge and f'id="last-run-{operation.pk}"' in badge


def test_run_settings_set_on_complete_and_refuse_a_loop_through_it(project, client_for):
    """The keyboard path of the On Complete arrow (issue 11)."""
    a = make_operation(project, name="A")
    b = make_operation(project, name="B")
    client = client_for("editor")
    url = f"/projects/{project.pk}/operations/{a.pk}/run-settings/"
    form = {"on_complete": b.pk, "timeout_minutes": 30, "on_agent_lost": "error"}
    assert client.post(url, form).status_code == 302
    a.refresh_from_db()
    assert a.on_complete_id == b.pk and a.on_success_id is None
    assert "On Complete, run" in client.get(url).content.decode()
    response = client.post(
        f"/projects/{project.pk}/operations/{b.pk}/run-settings/",
        {"on_success": a.pk, "timeout_minutes": 120, "on_agent_lost": "error"},
    )
    assert response.status_code == 400
    assert "These actions would loop: B → A → B" in response.content.decode()
