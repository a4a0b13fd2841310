"""A Pending run whose message a broker lost is published again, once per window, and only
when an agent of its queue is idle to take it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from designer.runs.models import Agent, OperationRun, RunStatus, RunTrigger
from designer.runs.services import run_start, runs_republish_stale
from tests.runs.conftest import make_operation

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale_run(project, settings):
    settings.RUNS_PENDING_REPUBLISH_SECONDS = 120
    project.agent_group = "group-a"
    project.save()
    run = run_start(operation=make_operation(project, count=3), trigger=RunTrigger.MANUAL)
    OperationRun.objects.filter(pk=run.pk).update(
        published_at=timezone.now() - timedelta(seconds=300)
    )
    return run


def agent(name: str = "a1@test", queues=("group-a",)) -> Agent:
    return Agent.objects.create(name=name, queues=list(queues), last_heartbeat=timezone.now())


def test_published_again_once_per_window(stale_run, django_capture_on_commit_callbacks):
    agent()
    with django_capture_on_commit_callbacks() as published:
        assert runs_republish_stale() == [stale_run.pk]
        assert runs_republish_stale() == []  # within the window: not again
    assert len(published) == 1
    stale_run.refresh_from_db()
    assert stale_run.status == RunStatus.PENDING
    assert stale_run.log_lines.filter(message__contains="queued again").count() == 1


def test_not_without_an_online_agent_of_its_queue(stale_run):
    Agent.objects.create(
        name="old@test", queues=["group-a"], last_heartbeat=timezone.now() - timedelta(hours=1)
    )
    agent(name="other@test", queues=["group-b"])
    assert runs_republish_stale() == []


def test_not_while_every_agent_of_its_queue_is_busy(stale_run, project):
    agent()
    busy = run_start(operation=make_operation(project, count=3), trigger=RunTrigger.MANUAL)
    OperationRun.objects.filter(pk=busy.pk).update(status=RunStatus.RUNNING)
    assert runs_republish_stale() == []
    agent(name="a2@test")  # a second, idle agent: now it can take the run
    assert runs_republish_stale() == [stale_run.pk]


def test_a_fresh_pending_run_is_left_alone(project, settings):
    settings.RUNS_PENDING_REPUBLISH_SECONDS = 120
    agent(queues=[project.agent_group])
    run_start(operation=make_operation(project, count=3), trigger=RunTrigger.MANUAL)
    assert runs_republish_stale() == []
