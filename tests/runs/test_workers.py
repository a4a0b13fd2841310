"""End to end on real Celery worker processes: Run -> queue -> worker -> final status."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings

from designer.design.models import AgentLostPolicy
from designer.runs.models import Agent, OperationRun, RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.runs.conftest import make_operation, new_queue, wait_final, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queued_project(project, shared_worker):
    project.agent_group = shared_worker.queue
    project.save()
    return project


def test_run_button_to_success_with_exact_counters(queued_project, client_for, shared_worker):
    operation = make_operation(queued_project, count=250, page=40, batch=100)
    client = client_for("operator")
    response = client.post(f"/projects/{queued_project.pk}/operations/{operation.pk}/run/")
    run = OperationRun.objects.get(operation=operation)
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{queued_project.pk}/runs/{run.pk}/"
    wait_final(run)
    assert run.status == RunStatus.SUCCESS, run.message
    assert (run.source_records, run.target_records, run.failed_records) == (250, 250, 0)
    assert run.total_expected == 250
    assert run.agent_name == shared_worker.name
    assert run.trigger == RunTrigger.MANUAL and run.triggered_by.username == "operator"
    assert run.started_at >= run.created_at and run.ended_at >= run.started_at
    page = client.get(f"/projects/{queued_project.pk}/runs/{run.pk}/")
    assert b"Success" in page.content and shared_worker.name.encode() in page.content


def test_worker_heartbeat_reports_versions(queued_project, shared_worker):
    def beating():
        return Agent.objects.filter(name=shared_worker.name).first()

    agent = wait_for(beating, what="a heartbeat")
    assert agent.online
    assert agent.queues == [shared_worker.queue]
    assert agent.connector_versions["fake"] == "1.2.0"
    assert agent.app_version == "0.1.0"


def test_success_with_warning_keeps_per_record_failures(queued_project, shared_worker):
    run = run_start(
        operation=make_operation(queued_project, count=100, fail_every=25),
        trigger=RunTrigger.MANUAL,
    )
    wait_final(run)
    assert run.status == RunStatus.WARNING
    assert (run.source_records, run.target_records, run.failed_records) == (100, 96, 4)
    assert list(run.failures.values_list("key", "error_key")) == [
        (f"r{i}@example.com", "contacts.api.conflict") for i in (0, 25, 50, 75)
    ]


def test_cancel_stops_at_the_next_batch_and_keeps_partial_counts(
    queued_project, shared_worker, client_for
):
    operation = make_operation(queued_project, count=400, page=10, batch=10, delay=0.2)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def started():
        run.refresh_from_db()
        return run.source_records >= 20

    wait_for(started, what="the run to make progress")
    response = client_for("operator").post(
        f"/projects/{queued_project.pk}/runs/{run.pk}/cancel/", HTTP_HX_REQUEST="true"
    )
    # The answer shows the run as it is then: Cancel Requested, or already Canceled when the
    # worker's next batch came before the page was drawn (seen on the loaded CI machine).
    assert response.status_code == 200
    assert b"Cancel Requested" in response.content or b'data-status="canceled"' in response.content
    wait_final(run)
    assert run.status == RunStatus.CANCELED
    assert 20 <= run.source_records < 400
    assert run.target_records == run.source_records
    assert run.message.startswith("Canceled at the user's request")


def test_time_out_ends_the_run_as_error(queued_project, shared_worker):
    operation = make_operation(
        queued_project, count=100, page=5, batch=5, delay=0.3, timeout_seconds=2
    )
    run = wait_final(run_start(operation=operation, trigger=RunTrigger.MANUAL))
    assert run.status == RunStatus.ERROR
    assert "operation time-out of 2 seconds was reached" in run.message
    assert 0 < run.source_records < 100


def test_actions_chain_on_success_and_on_fail(queued_project, shared_worker):
    third = make_operation(queued_project, count=3, name="Third")
    second = make_operation(queued_project, count=3, mode="reconnect", name="Second")
    second.on_fail = third
    second.save()
    first = make_operation(queued_project, count=3, name="First")
    first.on_success = second
    first.save()
    run = wait_final(run_start(operation=first, trigger=RunTrigger.MANUAL))
    assert run.status == RunStatus.SUCCESS

    def chain():
        runs = OperationRun.objects.filter(project=queued_project).order_by("pk")
        return len(runs) == 3 and all(r.is_final for r in runs) and list(runs)

    runs = wait_for(chain, what="the chain to finish")
    assert [(r.operation.name, r.status, r.trigger) for r in runs] == [
        ("First", RunStatus.SUCCESS, RunTrigger.MANUAL),
        ("Second", RunStatus.ERROR, RunTrigger.ACTION),
        ("Third", RunStatus.SUCCESS, RunTrigger.ACTION),
    ]
    assert runs[1].parent == runs[0] and runs[2].parent == runs[1]


def test_run_operation_command_waits_and_sets_the_exit_code(
    queued_project, shared_worker, worker_env
):
    good = make_operation(queued_project, count=20, name="Good")
    bad = make_operation(queued_project, count=20, fail_every=5, name="Partly bad")
    command = [sys.executable, "manage.py", "run_operation", str(queued_project.pk)]
    ok = subprocess.run(
        [*command, "Good", "--wait"],
        env=worker_env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Success. Source records: 20, target records: 20, failed records: 0." in ok.stdout
    warn = subprocess.run(
        [*command, str(bad.pk), "--wait"],
        env=worker_env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert warn.returncode == 1
    assert "Success with Warning. Source records: 20, target records: 16, failed records: 4." in (
        warn.stdout
    )
    assert OperationRun.objects.filter(operation=good, trigger=RunTrigger.COMMAND).count() == 1


def _ledger_counts(path) -> collections.Counter:
    return collections.Counter(path.read_text().splitlines()) if path.exists() else {}


def test_sigkill_mid_run_requeues_and_every_record_is_done_once_or_failed(
    project, workers, tmp_path
):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    ledger = tmp_path / "ledger"
    count = 300
    operation = make_operation(
        project,
        count=count,
        page=10,
        batch=10,
        delay=0.05,
        write_delay=0.05,
        ledger=ledger,
        on_agent_lost=AgentLostPolicy.REQUEUE,
    )
    pool = workers.start_many([queue, queue])
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def progressed():
        run.refresh_from_db()
        return run.status == RunStatus.RUNNING and run.source_records >= 60 and run.agent_name

    wait_for(progressed, what="progress")
    victim = next(w for w in pool if w.name == run.agent_name)
    survivor = next(w for w in pool if w is not victim)
    victim.kill(signal.SIGKILL)
    wait_final(run, timeout=60)
    assert run.status == RunStatus.SUCCESS or run.status == RunStatus.WARNING, run.message
    assert run.attempts == 2 and run.agent_name == survivor.name
    assert run.source_records == count
    assert run.target_records + run.failed_records == count
    written = _ledger_counts(ledger)
    assert max(written.values()) == 1, "a record was written twice"
    failed = dict(run.failures.values_list("key", "error_key"))
    every = {f"r{i}@example.com" for i in range(count)}
    assert set(written) | set(failed) == every
    assert set(failed.values()) <= {"agent_lost"}
    assert run.target_records == len(set(written) - set(failed))
    assert run.log_lines.filter(message__contains="re-queued").exists()


def test_sigkill_with_the_error_policy_ends_the_run_as_agent_lost(
    project, workers, tmp_path, shared_worker
):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    ledger = tmp_path / "ledger"
    operation = make_operation(
        project,
        count=500,
        page=10,
        batch=10,
        delay=0.05,
        ledger=ledger,
        on_agent_lost=AgentLostPolicy.ERROR,
    )
    victim = workers.start(queue)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def progressed():
        run.refresh_from_db()
        return run.source_records >= 30

    wait_for(progressed, what="progress")
    victim.kill(signal.SIGKILL)
    wait_final(run, timeout=60)  # the shared worker's heartbeat loop reaps it
    assert run.status == RunStatus.ERROR
    assert run.message.startswith(f"Agent lost: {victim.name} stopped sending heartbeats")
    written = _ledger_counts(ledger)
    assert not written or max(written.values()) == 1
    failed = set(run.failures.values_list("key", flat=True))
    handled = {f"r{i}@example.com" for i in range(run.source_records)}
    assert set(written) | failed == handled
    assert run.target_records == len(set(written) - failed)


def test_a_killed_pool_process_is_caught_by_the_run_heartbeat(project, workers, tmp_path):
    """Prefork: the pool process dies but the worker's main process lives on and keeps
    sending agent heartbeats; the run's own heartbeat stops, so the run is still ended."""
    queue = new_queue()
    project.agent_group = queue
    project.save()
    operation = make_operation(project, count=500, page=10, batch=10, delay=0.05)
    worker = workers.start(queue, pool="prefork")
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def progressed():
        run.refresh_from_db()
        return run.source_records >= 30

    wait_for(progressed, what="progress")
    children = worker.children()
    assert len(children) == 1
    os.kill(children[0], signal.SIGKILL)
    wait_final(run, timeout=60)
    assert run.status == RunStatus.ERROR
    assert run.message.startswith(f"Agent lost: {worker.name} stopped sending heartbeats")
    assert worker.process.poll() is None  # the worker itself is alive ...
    assert Agent.objects.get(name=worker.name).online  # ... and still reports in
    assert run.attempts == 1  # a redelivered message finds nothing to claim


def test_an_agent_with_an_older_connector_refuses_the_run(project, workers):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    worker = workers.start(queue, extra_env={"FAKE_CONNECTOR_VERSION": "1.1.0"})
    assert Agent.objects.get(name=worker.name).connector_versions["fake"] == "1.1.0"
    run = run_start(operation=make_operation(project, count=5), trigger=RunTrigger.MANUAL)
    wait_final(run)
    assert run.status == RunStatus.ERROR
    assert run.message == (
        f"Agent {worker.name} carries Fake connector version 1.1.0, but this project needs "
        "1.2.0; update the agent."
    )
    assert run.source_records == 0


def test_a_schedules_beat_task_runs_the_operation_on_a_worker(queued_project, shared_worker):
    """What beat sends for a schedule (its PeriodicTask's task, args and queue), delivered to a
    worker, starts a run of the operation that then runs there."""
    from django_celery_beat.models import PeriodicTask

    from designer.celery import app
    from designer.runs.schedules import schedule_save

    schedule = schedule_save(operation=make_operation(queued_project, count=7), cron="*/5 * * * *")
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    app.send_task(task.task, args=json.loads(task.args), queue=task.queue)
    run = wait_for(lambda: OperationRun.objects.filter(operation=schedule.operation).first())
    wait_final(run)
    assert run.trigger == RunTrigger.SCHEDULE
    assert (run.status, run.target_records) == (RunStatus.SUCCESS, 7)


def test_sigkill_mid_batch_of_per_record_writes_resumes_it_without_duplicates(
    project, workers, tmp_path
):
    """Issue 17.4, engine side: per-record results are committed while the batch is written;
    after SIGKILL the re-queued attempt hands back only the records without a committed
    result (resuming, same journal), and the target finds those it already wrote."""
    queue = new_queue()
    project.agent_group = queue
    project.save()
    ledger = tmp_path / "ledger"
    count = 120
    operation = make_operation(
        project,
        count=count,
        page=60,
        batch=60,
        per_record=True,
        write_delay=0.05,
        ledger=ledger,
        on_agent_lost=AgentLostPolicy.REQUEUE,
    )
    pool = workers.start_many([queue, queue])
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)

    def mid_batch():
        run.refresh_from_db()
        return run.agent_name and run.in_flight_done and 10 <= len(run.in_flight_done) < 50

    wait_for(mid_batch, timeout=60, interval=0.05, what="a batch half written")
    victim = next(w for w in pool if w.name == run.agent_name)
    victim.kill(signal.SIGKILL)
    wait_final(run, timeout=90)
    assert run.status == RunStatus.SUCCESS, run.message
    assert run.attempts == 2
    written = _ledger_counts(ledger)
    assert max(written.values()) == 1, "a record was written twice"
    assert len(written) == run.target_records == run.source_records == count
    assert not run.failures.exists()  # nothing reported agent_lost: it was resumed
    resumed = run.log_lines.get(message__contains="journal first_sent=").message
    assert "journal first_sent=None" not in resumed  # the journal outlived the worker
    assert run.log_lines.filter(message__startswith="Resuming the batch a lost agent").exists()
