"""Caps on waiting runs (issue 17.12): one Pending run per operation from the Run button,
schedules, commands and actions ("already queued"); runs that bring their own records
(re-runs, API triggers) up to RUNS_MAX_PENDING_WITH_INPUT. Beyond, a clear refusal."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from designer.runs.models import OperationRun, RunStatus, RunTrigger
from designer.runs.schedules import schedule_fire, schedule_save
from designer.runs.services import RunRefused, RunsWaiting, run_start
from tests.runs.conftest import make_operation

RECORDS = [{"id": 1, "email": "r1@example.com"}]


def start(operation, **kwargs) -> OperationRun:
    return run_start(operation=operation, trigger=RunTrigger.MANUAL, **kwargs)


@pytest.mark.django_db
def test_a_second_run_click_finds_one_waiting_and_says_already_queued(project):
    operation = make_operation(project, name="Nightly")
    first = start(operation)
    with pytest.raises(RunsWaiting) as refused:
        start(operation)
    assert str(refused.value) == (
        f"“Nightly” is already queued (run {first.pk}); it starts when an agent is free, "
        "so it was not queued again."
    )
    assert isinstance(refused.value, RunRefused)  # views and the API show it as a refusal
    assert OperationRun.objects.filter(operation=operation).count() == 1
    # Once it is under way (or over), the operation may be queued again.
    OperationRun.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING)
    assert start(operation).status == RunStatus.PENDING


@pytest.mark.django_db
def test_the_run_button_shows_the_refusal(project, client_for):
    operation = make_operation(project, name="Nightly")
    client = client_for("operator")
    url = f"/projects/{project.pk}/operations/{operation.pk}/run/"
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 200
    second = client.post(url, HTTP_HX_REQUEST="true")
    assert second.status_code == 409
    assert "is already queued" in second.content.decode()
    assert OperationRun.objects.filter(operation=operation).count() == 1


@pytest.mark.django_db
def test_a_schedule_firing_while_a_run_waits_queues_nothing(project):
    operation = make_operation(project)
    schedule = schedule_save(operation=operation, cron="*/5 * * * *")
    schedule_fire(schedule_id=schedule.pk)
    schedule_fire(schedule_id=schedule.pk)
    (run,) = OperationRun.objects.filter(operation=operation)
    assert run.trigger == RunTrigger.SCHEDULE
    assert run.log_lines.filter(message__contains="schedule fired again while this run").exists()


@pytest.mark.django_db
def test_runs_with_their_own_records_have_a_separate_larger_cap(project, settings):
    settings.RUNS_MAX_PENDING_WITH_INPUT = 3
    operation = make_operation(project, name="Import")
    for _ in range(3):
        run_start(operation=operation, trigger=RunTrigger.RERUN, records=RECORDS)
    with pytest.raises(RunsWaiting, match="3 runs of “Import” with their own records are already"):
        run_start(operation=operation, trigger=RunTrigger.RERUN, records=RECORDS)
    start(operation)  # the Run button's cap is apart: one may still wait
    with pytest.raises(RunsWaiting, match="already queued"):
        start(operation)
    assert OperationRun.objects.filter(operation=operation).count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_queue_one_run(project):
    operation = make_operation(project)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        try:
            barrier.wait()
            start(operation)
            outcomes.append("queued")
        except RunsWaiting:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["queued", "refused"]
    assert OperationRun.objects.filter(operation=operation).count() == 1
