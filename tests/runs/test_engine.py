"""The engine in this process, against the fake connector and the real database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from designer.runs import engine
from designer.runs.models import DebugSample, OperationRun, RunLogLine, RunStatus, RunTrigger
from designer.runs.services import RunRefused, run_cancel, run_rerun_failed, run_start
from tests.runs.conftest import SECRET, make_operation

pytestmark = pytest.mark.django_db


def execute(run: OperationRun) -> OperationRun:
    result = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert result is not None
    return result


def start(operation, **kwargs) -> OperationRun:
    return run_start(operation=operation, trigger=RunTrigger.MANUAL, **kwargs)


def test_run_counts_every_record_and_saves_the_source_state(project):
    operation = make_operation(project, count=250, page=40, batch=100)
    run = execute(start(operation))
    assert run.status == RunStatus.SUCCESS
    assert (run.source_records, run.target_records, run.failed_records) == (250, 250, 0)
    assert run.total_expected == 250
    assert run.agent_name == "inproc@test" and run.agent.name == "inproc@test"
    assert run.started_at <= run.ended_at
    assert run.message == "Finished: 250 source records, 250 written, 0 failed."
    assert run.http_requests == 7 + 3  # 7 source pages, 3 target batches
    operation.source.refresh_from_db()
    assert operation.source.state == {"last_count": 250}
    assert not run.failures.exists()


def test_a_second_delivery_finds_nothing_to_claim(project):
    run = start(make_operation(project, count=3))
    execute(run)
    assert engine.execute(run_id=run.pk, agent_name="other@test") is None
    run.refresh_from_db()
    assert run.attempts == 1 and run.target_records == 3


def test_failed_records_give_success_with_warning_and_rows(project):
    run = execute(start(make_operation(project, count=100, fail_every=10, batch=30)))
    assert run.status == RunStatus.WARNING
    assert run.get_status_display() == "Success with Warning"
    assert (run.source_records, run.target_records, run.failed_records) == (100, 90, 10)
    failures = list(run.failures.all())
    assert [f.index for f in failures] == list(range(0, 100, 10))
    assert failures[1].key == "r10@example.com"
    assert failures[1].error_key == "contacts.api.conflict"
    assert failures[1].error_message == "Email already exists for contact 10"
    assert failures[1].record == {"id": 10, "email": "r10@example.com", "name": "Record 10"}


def test_mapping_errors_fail_the_record_not_the_run(project):
    operation = make_operation(
        project, count=5, mapping=[{"target": "email", "kind": "nonsense", "value": "x"}]
    )
    run = execute(start(operation))
    assert (run.target_records, run.failed_records) == (0, 5)
    assert set(run.failures.values_list("error_key", flat=True)) == {"mapping_error"}
    assert run.status == RunStatus.ERROR  # every record failed (issue 16.8)


def test_a_run_in_which_every_record_failed_ends_error_not_warning(project):
    run = execute(start(make_operation(project, count=12, fail_every=1, batch=5)))
    assert (run.source_records, run.target_records, run.failed_records) == (12, 0, 12)
    assert run.status == RunStatus.ERROR
    assert run.message == "All 12 records failed: 12 source records, 0 written, 12 failed."


def test_one_record_written_keeps_success_with_warning(project):
    run = execute(start(make_operation(project, count=12, fail_every=2, batch=5)))
    assert (run.target_records, run.failed_records) == (6, 6)
    assert run.status == RunStatus.WARNING


def test_mapping_is_applied_before_the_target(project, tmp_path):
    ledger = tmp_path / "ledger"
    mapping = [{"target": "email", "kind": "path", "value": "name"}]
    run = execute(start(make_operation(project, count=3, mapping=mapping, ledger=ledger)))
    assert run.status == RunStatus.SUCCESS
    assert ledger.read_text().splitlines() == ["Record 0", "Record 1", "Record 2"]


def test_a_target_returning_too_few_results_fails_the_missing_records_loudly(project):
    run = execute(start(make_operation(project, count=10, batch=5, mode="short")))
    assert run.status == RunStatus.WARNING
    assert (run.source_records, run.target_records, run.failed_records) == (10, 8, 2)
    assert list(run.failures.values_list("index", "error_key")) == [
        (4, "missing_result"),
        (9, "missing_result"),
    ]
    assert run.log_lines.filter(level="error", message__contains="returned 4 results").count() == 2


def test_a_transient_error_fails_the_batch_and_the_run_goes_on(project):
    run = execute(start(make_operation(project, count=12, batch=5, mode="transient")))
    # Every batch was tried (the run went on), and as all of them failed, the run is Error.
    assert (run.source_records, run.target_records, run.failed_records) == (12, 0, 12)
    assert run.status == RunStatus.ERROR
    assert set(run.failures.values_list("error_key", flat=True)) == {"service_unavailable"}


def test_needs_reconnect_ends_the_run_as_error(project):
    operation = make_operation(project, count=12, batch=5, mode="reconnect")
    run = execute(start(operation))
    assert run.status == RunStatus.ERROR
    assert "needs to be reconnected" in run.message and "invalid_grant" in run.message
    # The batch being written is reported, the rest was never read.
    assert (run.source_records, run.failed_records) == (5, 5)
    operation.source.refresh_from_db()
    assert operation.source.state == {}  # no watermark after a failed run


def test_an_agent_without_the_needed_connector_version_refuses_to_run(project):
    run = start(make_operation(project, count=3))
    assert run.required_connectors == {"fake": "1.2.0"}
    OperationRun.objects.filter(pk=run.pk).update(required_connectors={"fake": "2.0.0"})
    run = execute(run)
    assert run.status == RunStatus.ERROR
    assert run.message == (
        "Agent inproc@test carries Fake connector version 1.2.0, but this project needs "
        "2.0.0; update the agent."
    )
    assert run.source_records == 0


@pytest.mark.parametrize(
    ("have", "need", "ok"),
    [
        ("1.2.0", "1.2.0", True),
        ("1.3.0", "1.2.9", True),
        ("1.1.0", "1.2.0", False),
        ("2.0.0", "1.2.0", False),
    ],
)
def test_version_rule(have, need, ok):
    assert engine.version_satisfies(have, need) is ok


def test_the_operation_time_out_ends_the_run_as_error(project):
    operation = make_operation(project, count=50, page=5, batch=5, delay=0.35, timeout_seconds=2)
    run = execute(start(operation))
    assert run.status == RunStatus.ERROR
    assert run.message.startswith("Timed out: the operation time-out of 2 seconds was reached")
    assert 0 < run.source_records < 50
    assert run.target_records == run.source_records


def test_rerun_failed_records_processes_just_those(project, tmp_path):
    ledger = tmp_path / "ledger"
    operation = make_operation(project, count=30, fail_every=7, ledger=ledger)
    first = execute(start(operation))
    assert first.failed_records == 5  # 0, 7, 14, 21, 28
    target = operation.target  # read from its target step: change the activity itself
    target.config = {**target.config, "fail_every": 0}
    target.save()
    rerun = run_rerun_failed(run=first)
    assert rerun.trigger == RunTrigger.RERUN and rerun.parent == first
    assert rerun.total_expected == 5
    rerun = execute(rerun)
    assert rerun.status == RunStatus.SUCCESS
    assert (rerun.source_records, rerun.target_records, rerun.failed_records) == (5, 5, 0)
    lines = ledger.read_text().splitlines()
    assert len(lines) == 30 and len(set(lines)) == 30


def test_rerun_without_failures_is_refused(project):
    run = execute(start(make_operation(project, count=2)))
    with pytest.raises(RunRefused, match="no failed records"):
        run_rerun_failed(run=run)


def test_cancel_before_start_and_while_running(project):
    operation = make_operation(project, count=20, page=5, batch=5)
    pending = start(operation)
    assert run_cancel(run=pending) is True
    pending.refresh_from_db()
    assert pending.status == RunStatus.CANCELED and pending.ended_at
    assert engine.execute(run_id=pending.pk, agent_name="inproc@test") is None

    running = start(operation)
    OperationRun.objects.filter(pk=running.pk).update(status=RunStatus.CANCEL_REQUESTED)
    assert run_cancel(run=running) is False  # already asked


def test_debug_logging_keeps_redacted_samples(project):
    operation = make_operation(project, count=4, page=2, debug_until=timezone.now() + timedelta(1))
    run = execute(start(operation))
    assert run.debug is True
    samples = list(DebugSample.objects.filter(run=run))
    assert len(samples) == 3
    get = samples[0]
    assert get.url == "http://fake.test/records?offset=0&api_key=[redacted]"
    assert get.response_body == {"token": "[redacted]", "note": "Bearer [redacted]", "count": 2}
    everything = json.dumps(
        [[s.url, s.request_body, s.response_body, s.error] for s in samples]
        + list(RunLogLine.objects.filter(run=run).values_list("message", flat=True))
    )
    assert SECRET not in everything


def test_without_debug_no_samples_are_kept(project):
    run = execute(start(make_operation(project, count=4, page=2)))
    assert run.debug is False and not run.debug_samples.exists()


def test_run_start_refuses_an_incomplete_operation(project):
    operation = make_operation(project)
    operation.steps.filter(kind="target").delete()
    with pytest.raises(RunRefused, match="has no target activity"):
        start(operation)


def test_run_is_queued_on_the_projects_agent_group(project, django_capture_on_commit_callbacks):
    project.agent_group = "emea"
    project.save()
    with django_capture_on_commit_callbacks() as callbacks:
        run = start(make_operation(project))
    assert run.status == RunStatus.PENDING and run.queue == "emea"
    assert len(callbacks) == 1  # published only once the transaction commits
