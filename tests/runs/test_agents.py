"""Heartbeats, lost agents, time-outs past the engine, and retention (services the workers'
heartbeat loop and the beat schedule call)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from designer.design.models import AgentLostPolicy
from designer.runs.models import Agent, OperationRun, RunLogLine, RunStatus, RunTrigger
from designer.runs.services import (
    agent_heartbeat,
    agent_stopped,
    run_claim,
    run_start,
    runs_prune,
    runs_reap_lost,
)
from tests.runs.conftest import AGENT_LOST_SECONDS, make_operation

pytestmark = pytest.mark.django_db


def running_run(project, *, policy=AgentLostPolicy.ERROR, in_flight=0, **kwargs):
    operation = make_operation(project, on_agent_lost=policy, **kwargs)
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    agent_heartbeat(name="w1@host", queues=["default"], connector_versions={"fake": "1.2.0"})
    assert run_claim(run_id=run.pk, agent_name="w1@host")
    OperationRun.objects.filter(pk=run.pk).update(
        source_records=40,
        target_records=38,
        failed_records=2,
        in_flight_records=[
            {"key": f"r{40 + i}@example.com", "record": {"id": 40 + i}} for i in range(in_flight)
        ]
        or None,
    )
    return run


def silence(seconds: float) -> None:
    """The agent's heartbeats (and so its runs') stopped ``seconds`` ago."""
    then = timezone.now() - timedelta(seconds=seconds)
    Agent.objects.update(last_heartbeat=then)
    OperationRun.objects.filter(status__in=["running", "cancel_requested"]).update(
        heartbeat_at=then
    )


def test_heartbeat_records_the_agent_and_online_follows_it():
    agent = agent_heartbeat(
        name="w1@host",
        hostname="host",
        pid=12,
        queues=["default", "emea"],
        app_version="0.1.0",
        connector_versions={"constant_contact": "1.0.0"},
        starting=True,
    )
    assert agent.online and agent.started_at and agent.queues == ["default", "emea"]
    silence(AGENT_LOST_SECONDS + 1)
    assert not Agent.objects.get().online
    agent_heartbeat(name="w1@host")
    assert Agent.objects.get().online
    agent_stopped(name="w1@host")
    assert not Agent.objects.get().online


def test_a_run_whose_agent_went_silent_ends_as_agent_lost(project):
    run = running_run(project, in_flight=10)
    silence(AGENT_LOST_SECONDS - 1)
    assert runs_reap_lost() == []  # not silent long enough yet
    silence(AGENT_LOST_SECONDS + 1)
    assert runs_reap_lost() == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR and run.ended_at
    assert run.message.startswith("Agent lost: w1@host stopped sending heartbeats")
    # The batch being written has an unknown outcome: reported, never silently dropped.
    assert (run.source_records, run.target_records, run.failed_records) == (50, 38, 12)
    assert run.failures.filter(error_key="agent_lost").count() == 10
    assert run.in_flight_records is None
    assert runs_reap_lost() == []  # once


def test_requeue_policy_puts_the_run_back_in_the_queue(project, django_capture_on_commit_callbacks):
    run = running_run(project, policy=AgentLostPolicy.REQUEUE, in_flight=5)
    silence(AGENT_LOST_SECONDS + 1)
    with django_capture_on_commit_callbacks() as callbacks:
        assert runs_reap_lost() == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING and run.agent is None and run.attempts == 1
    # The batch in flight is not reported lost: the next attempt resumes it (issue 17.4).
    assert (run.source_records, run.failed_records) == (40, 2)
    assert len(run.in_flight_records) == 5 and not run.failures.exists()
    assert len(callbacks) == 1
    line = RunLogLine.objects.get(run=run, message__contains="re-queued")
    assert "resuming the batch in flight (records 41 to 45)" in line.message


def test_requeues_are_limited(project, settings):
    settings.RUNS_MAX_REQUEUES = 0
    run = running_run(project, policy=AgentLostPolicy.REQUEUE)
    silence(AGENT_LOST_SECONDS + 1)
    runs_reap_lost()
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR


def test_cancel_requested_on_a_lost_agent_ends_as_canceled(project):
    run = running_run(project)
    OperationRun.objects.filter(pk=run.pk).update(status=RunStatus.CANCEL_REQUESTED)
    silence(AGENT_LOST_SECONDS + 1)
    runs_reap_lost()
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELED


def test_a_live_agent_past_the_time_out_is_ended(project):
    run = running_run(project, timeout_seconds=60)
    OperationRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - timedelta(seconds=60 + AGENT_LOST_SECONDS + 1),
        heartbeat_at=timezone.now(),  # still beating, but stuck
    )
    assert runs_reap_lost() == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR and run.message.startswith("Timed out")


def test_an_agent_lost_error_runs_the_on_fail_action(project):
    fallback = make_operation(project, name="Fallback")
    run = running_run(project, on_fail=fallback)
    silence(AGENT_LOST_SECONDS + 1)
    runs_reap_lost()
    child = OperationRun.objects.get(operation=fallback)
    assert child.trigger == RunTrigger.ACTION and child.parent_id == run.pk


def test_prune_deletes_old_finished_runs_only(project, settings):
    settings.RUNS_RETENTION_DAYS = 30
    operation = make_operation(project)
    old = timezone.now() - timedelta(days=31)
    old_done = OperationRun.objects.create(
        project=project,
        operation=operation,
        trigger="manual",
        queue="q",
        status=RunStatus.SUCCESS,
        created_at=old,
    )
    RunLogLine.objects.create(run=old_done, message="old")
    old_active = OperationRun.objects.create(
        project=project,
        operation=operation,
        trigger="manual",
        queue="q",
        status=RunStatus.RUNNING,
        created_at=old,
    )
    recent = OperationRun.objects.create(
        project=project,
        operation=operation,
        trigger="manual",
        queue="q",
        status=RunStatus.ERROR,
        created_at=timezone.now() - timedelta(days=29),
    )
    agent_heartbeat(name="gone@host")
    agent_heartbeat(name="here@host")
    Agent.objects.filter(name="gone@host").update(last_heartbeat=old)
    assert runs_prune() == 3  # the run, its log line and the long-silent agent
    assert set(OperationRun.objects.values_list("pk", flat=True)) == {old_active.pk, recent.pk}
    assert list(Agent.objects.values_list("name", flat=True)) == ["here@host"]
