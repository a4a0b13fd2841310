"""``run_finished``: sent once, after commit, on every path that ends a run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from designer.runs import engine
from designer.runs.models import OperationRun, RunStatus, RunTrigger
from designer.runs.services import (
    agent_heartbeat,
    run_cancel,
    run_claim,
    run_start,
    runs_reap_lost,
)
from designer.runs.signals import run_finished
from tests.runs.conftest import AGENT_LOST_SECONDS, make_operation

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    seen: list[tuple[int, str]] = []

    def receiver(sender, run, **kwargs):
        seen.append((run.pk, run.status))

    run_finished.connect(receiver)
    yield seen
    run_finished.disconnect(receiver)


def test_engine_finish_sends_it_after_commit(project, received, django_capture_on_commit_callbacks):
    run = run_start(operation=make_operation(project, count=3), trigger=RunTrigger.MANUAL)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert received == []  # not before the commit
    for callback in callbacks:
        callback()
    assert received == [(run.pk, RunStatus.SUCCESS)]


def test_canceling_a_pending_run_sends_it(project, received, django_capture_on_commit_callbacks):
    run = run_start(operation=make_operation(project), trigger=RunTrigger.MANUAL)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_cancel(run=run)
    assert received == [(run.pk, RunStatus.CANCELED)]


def test_cancel_request_of_a_running_run_does_not(
    project, received, django_capture_on_commit_callbacks
):
    run = run_start(operation=make_operation(project), trigger=RunTrigger.MANUAL)
    assert run_claim(run_id=run.pk, agent_name="w1@host")
    with django_capture_on_commit_callbacks(execute=True):
        assert run_cancel(run=run)
    assert received == []  # Cancel Requested is not final; the engine sends it when it stops


def test_the_reaper_sends_it_for_a_lost_agent(
    project, received, django_capture_on_commit_callbacks
):
    run = run_start(operation=make_operation(project), trigger=RunTrigger.MANUAL)
    agent_heartbeat(name="w1@host", queues=["default"])
    assert run_claim(run_id=run.pk, agent_name="w1@host")
    OperationRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=AGENT_LOST_SECONDS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert runs_reap_lost() == [run.pk]
    assert received == [(run.pk, RunStatus.ERROR)]


def test_a_failing_receiver_does_not_break_the_run(
    project, received, django_capture_on_commit_callbacks
):
    def broken(sender, run, **kwargs):
        raise RuntimeError("receiver bug")

    run_finished.connect(broken)
    try:
        run = run_start(operation=make_operation(project, count=2), trigger=RunTrigger.MANUAL)
        with django_capture_on_commit_callbacks(execute=True):
            engine.execute(run_id=run.pk, agent_name="inproc@test")
    finally:
        run_finished.disconnect(broken)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCESS
    assert received == [(run.pk, RunStatus.SUCCESS)]
