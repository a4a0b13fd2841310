"""Multi-step chains in this process (issue 11): the response path, two targets,
conditions, scripts, invoke, per-step counts, failures naming their step, re-runs entering
at the failed step, and a batch resumed at the target it was writing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from designer.design.models import AgentLostPolicy, Operation, Transformation
from designer.projects.models import Variable
from designer.runs import engine
from designer.runs.models import OperationRun, RunStatus, RunTrigger
from designer.runs.services import (
    agent_heartbeat,
    run_claim,
    run_rerun_failed,
    run_start,
    runs_reap_lost,
)
from tests.runs.chains import add, chain, counts, ledger_counts, sink
from tests.runs.conftest import AGENT_LOST_SECONDS

pytestmark = pytest.mark.django_db

RESPONSE_TO_RECORD = [
    {"target": "email", "kind": "path", "value": "record.email"},
    {"target": "id", "kind": "path", "value": "record.id"},
    {"target": "outcome", "kind": "expression", "value": "action or error_key"},
]


def execute(operation, **kwargs) -> OperationRun:
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL, **kwargs)
    result = engine.execute(run_id=run.pk, agent_name="inproc@test")
    assert result is not None
    return result


def test_a_targets_response_flows_through_a_response_transformation_to_a_second_target(
    project, tmp_path
):
    operation, steps = chain(project, tmp_path, count=30, fail_every=10)
    response = add(operation, "transformation")
    Transformation.objects.filter(pk=response.transformation_id).update(mapping=RESPONSE_TO_RECORD)
    second = add(operation, "target", activity=sink(project, tmp_path / "b"))
    run = execute(operation)
    assert run.status == RunStatus.WARNING, run.message
    # 27 written at A; 3 failed there (ids 0, 10, 20), once, named by their step.
    assert (run.source_records, run.target_records, run.failed_records) == (30, 27, 3)
    failures = list(run.failures.all())
    assert {f.step_id for f in failures} == {steps["target"].pk}
    assert all("Target" in f.step_name and "(step 3)" in f.step_name for f in failures)
    assert failures[0].step_input == {"id": 0, "email": "r0@example.com", "name": "Record 0"}
    # Every record's result went on: the failed ones too (an error file would want them).
    assert len(ledger_counts(tmp_path / "a")) == 27
    assert sorted(ledger_counts(tmp_path / "b")) == sorted(f"r{i}@example.com" for i in range(30))
    assert counts(run, steps["source"]) == (30, 30, 0)
    assert counts(run, steps["transformation"]) == (30, 30, 0)
    assert counts(run, steps["target"]) == (30, 27, 3)
    assert counts(run, response) == (30, 30, 0)
    assert counts(run, second) == (30, 30, 0)


def test_the_same_records_go_to_two_targets(project, tmp_path):
    operation, steps = chain(project, tmp_path, count=12)
    from designer.design import operations

    operations.step_configure(step=steps["target"], user=None, config={"pass_on": "input"})
    archive = add(operation, "target", activity=sink(project, tmp_path / "archive"))
    run = execute(operation)
    assert run.status == RunStatus.SUCCESS, run.message
    assert run.target_records == 12
    assert ledger_counts(tmp_path / "a") == ledger_counts(tmp_path / "archive")
    assert len(ledger_counts(tmp_path / "archive")) == 12
    assert counts(run, archive) == (12, 12, 0)


def test_a_condition_routes_records_to_its_branches_or_filters_them(project, tmp_path):
    operation, steps = chain(project, tmp_path, count=10)
    from designer.design import operations

    operations.step_remove(step=steps["target"], user=None)
    condition = add(operation, "condition", config={"expression": "id % 2 == 0"})
    even = add(
        operation,
        "target",
        activity=sink(project, tmp_path / "even"),
        parent=condition,
        branch="true",
    )
    odd = add(
        operation,
        "target",
        activity=sink(project, tmp_path / "odd"),
        parent=condition,
        branch="false",
    )
    run = execute(operation)
    assert run.status == RunStatus.SUCCESS, run.message
    assert sorted(ledger_counts(tmp_path / "even")) == [
        f"r{i}@example.com" for i in (0, 2, 4, 6, 8)
    ]
    assert sorted(ledger_counts(tmp_path / "odd")) == [f"r{i}@example.com" for i in (1, 3, 5, 7, 9)]
    assert counts(run, condition) == (10, 10, 0)
    assert counts(run, even) == (5, 5, 0) and counts(run, odd) == (5, 5, 0)
    assert run.target_records == 10

    # As a filter: odd records are left out (not failed), even ones go on.
    operations.step_remove(step=odd, user=None)
    operations.step_remove(step=even, user=None)
    condition.refresh_from_db()
    operations.step_configure(
        step=condition, user=None, config={"expression": "id % 2 == 0", "mode": "filter"}
    )
    add(operation, "target", activity=sink(project, tmp_path / "filtered"))
    run = execute(operation)
    assert run.status == RunStatus.SUCCESS, run.message
    assert len(ledger_counts(tmp_path / "filtered")) == 5
    assert (run.source_records, run.target_records, run.failed_records) == (10, 5, 0)
    assert counts(run, condition) == (10, 5, 0)
    assert run.log_lines.filter(message__contains="5 written, 0 failed, 5 left out").exists()


def test_a_script_filters_changes_fields_sets_a_variable_and_names_its_failures(project, tmp_path):
    operation, _ = chain(project, tmp_path, count=10)
    script = add(
        operation,
        "script",
        position=2,
        config={
            "script": "skip if id > 6\nemail = email | upper\nratio = 10 / (id - 3)\n"
            "$last_email = email"
        },
    )
    run = execute(operation)
    assert run.status == RunStatus.WARNING, run.message
    written = sorted(ledger_counts(tmp_path / "a"))
    assert written == sorted(f"R{i}@EXAMPLE.COM" for i in (0, 1, 2, 4, 5, 6))
    (failure,) = run.failures.all()
    assert failure.key == "r3@example.com" and failure.error_key == "script_error"
    assert failure.error_message.startswith("line 3: ZeroDivisionError")
    assert failure.step_id == script.pk and failure.step_name.startswith("Script (step 3)")
    assert counts(run, script) == (10, 6, 1)  # 3 left out, 1 failed
    assert (run.source_records, run.target_records, run.failed_records) == (10, 6, 1)
    assert Variable.objects.get(project=project, name="last_email").value == "R6@EXAMPLE.COM"


def test_invoke_runs_another_operation_with_the_records_waiting_or_not(project, tmp_path):
    invoked, invoked_steps = chain(project, tmp_path / "x", count=1, name="Invoked")
    (tmp_path / "x").mkdir(exist_ok=True)
    from designer.design import operations

    operation, _ = chain(project, tmp_path, count=8)
    step = add(operation, "invoke", config={"operation": invoked.pk, "wait": True})
    run = execute(operation)
    assert run.status == RunStatus.SUCCESS, run.message
    child = OperationRun.objects.get(parent=run)
    # It ran (here, waited for) on the 8 records the step passed it, not on its own source.
    assert child.status == RunStatus.SUCCESS and child.input_records is not None
    assert (child.source_records, child.target_records) == (8, 8)
    assert counts(run, step) == (8, 8, 0)

    # Not waiting: the child is queued and the chain goes on.
    operations.step_configure(step=step, user=None, config={"operation": invoked.pk})
    run = execute(operation)
    assert run.status == RunStatus.SUCCESS, run.message
    assert OperationRun.objects.get(parent=run).status == RunStatus.PENDING

    # A waited-for child that fails fails the records at the invoke step.
    OperationRun.objects.filter(operation=invoked, status=RunStatus.PENDING).delete()
    target = invoked_steps["target"].activity
    target.config = {**target.config, "mode": "reconnect"}
    target.save()
    operations.step_configure(step=step, user=None, config={"operation": invoked.pk, "wait": 1})
    run = execute(operation)
    assert run.status == RunStatus.ERROR, run.message
    assert run.failed_records == 8
    assert set(run.failures.values_list("error_key", flat=True)) == {"invoke_failed"}
    assert "“Invoked”" in run.failures.first().error_message


def test_an_operation_can_start_with_an_invoke_step(project, tmp_path):
    invoked, _ = chain(project, tmp_path, count=4, name="Nightly")
    orchestrator = Operation.objects.create(project=project, name="Orchestrator")
    add(orchestrator, "invoke", config={"operation": invoked.pk, "wait": True})
    run = execute(orchestrator)
    assert run.status == RunStatus.SUCCESS, run.message
    child = OperationRun.objects.get(parent=run)
    assert child.input_records is None and child.target_records == 4


def test_re_run_failed_records_re_enters_at_the_failed_step(project, tmp_path):
    operation, steps = chain(
        project,
        tmp_path,
        count=20,
        fail_every=10,
        mapping=[
            {"target": "email", "kind": "path", "value": "email"},
            {"target": "id", "kind": "path", "value": "id"},
        ],
    )
    run = execute(operation)
    assert run.failed_records == 2
    # The mapping changes meanwhile: a re-run from the start would write the new value.
    Transformation.objects.filter(pk=steps["transformation"].transformation_id).update(
        mapping=[
            {"target": "email", "kind": "constant", "value": "changed@example.com"},
            {"target": "id", "kind": "constant", "value": 1},
        ]
    )
    target = steps["target"].activity
    target.config = {**target.config, "fail_every": 0}
    target.save()
    rerun = run_rerun_failed(run=run)
    assert rerun.input_steps == [
        [steps["target"].pk, {"email": "r0@example.com", "id": 0}],
        [steps["target"].pk, {"email": "r10@example.com", "id": 10}],
    ]
    rerun = engine.execute(run_id=rerun.pk, agent_name="inproc@test")
    assert rerun.status == RunStatus.SUCCESS, rerun.message
    assert (rerun.target_records, rerun.failed_records) == (2, 0)
    assert "changed@example.com" not in ledger_counts(tmp_path / "a")
    assert ledger_counts(tmp_path / "a")["r10@example.com"] == 1
    assert str(steps["transformation"].pk) not in rerun.step_counts  # never entered
    assert counts(rerun, steps["target"]) == (2, 2, 0)


def test_a_batch_resumed_at_its_second_target_does_not_write_the_first_again(project, tmp_path):
    """A lost agent left the batch at target B (records 0-1 with a committed result, 2-3
    written without one): the next attempt writes B's remaining records only, A none."""
    operation, steps = chain(project, tmp_path, count=10, on_agent_lost=AgentLostPolicy.REQUEUE)
    from designer.design import operations

    operations.step_configure(step=steps["target"], user=None, config={"pass_on": "input"})
    b = add(operation, "target", activity=sink(project, tmp_path / "b"))
    records = [{"id": i, "email": f"r{i}@example.com", "name": f"Record {i}"} for i in range(10)]
    (tmp_path / "a").write_text("".join(f"{r['email']}\n" for r in records))
    (tmp_path / "b").write_text("".join(f"r{i}@example.com\n" for i in range(4)))
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    agent_heartbeat(name="dead@host", queues=["default"])
    assert run_claim(run_id=run.pk, agent_name="dead@host")
    items = [[i, r] for i, r in enumerate(records)]
    OperationRun.objects.filter(pk=run.pk).update(
        total_expected=10,
        in_flight_records=[{"key": r["email"], "record": r} for r in records],
        in_flight_done=[0, 1],
        target_records=2,
        in_flight_journal={f"step{b.pk}:first_sent": 99.0},
        in_flight_stage={
            "step": b.pk,
            "queue": [{"step": b.pk, "items": items}],
            "outputs": {"0": None, "1": None},
        },
        step_counts={
            str(steps["target"].pk): {
                "name": "A",
                "kind": "target",
                "in": 10,
                "out": 10,
                "failed": 0,
            },
            str(b.pk): {"name": "B", "kind": "target", "in": 10, "out": 2, "failed": 0},
        },
        heartbeat_at=timezone.now() - timedelta(seconds=AGENT_LOST_SECONDS + 1),
    )
    assert runs_reap_lost() == [run.pk]
    run = engine.execute(run_id=run.pk, agent_name="next@host")
    assert run.status == RunStatus.SUCCESS, run.message
    assert (run.source_records, run.target_records, run.failed_records) == (10, 10, 0)
    assert (
        max(ledger_counts(tmp_path / "a").values()) == 1
        and len(ledger_counts(tmp_path / "a")) == 10
    )
    assert (
        max(ledger_counts(tmp_path / "b").values()) == 1
        and len(ledger_counts(tmp_path / "b")) == 10
    )
    resumed = run.log_lines.get(message__startswith="Resuming 8 records")
    assert "journal first_sent=99.0, 2 found written" in resumed.message
    assert counts(run, b) == (10, 10, 0)
    assert run.in_flight_stage is None


def test_the_run_page_shows_each_step_with_its_counts_and_debug_samples(
    project, tmp_path, client_for
):
    from django.urls import reverse

    operation, _ = chain(project, tmp_path, count=12, fail_every=5)
    operation.debug_until = timezone.now() + timedelta(hours=1)
    operation.save()
    condition = add(operation, "condition", config={"expression": "ok"})
    add(
        operation,
        "target",
        activity=sink(project, tmp_path / "ok"),
        parent=condition,
        branch="true",
    )
    run = execute(operation)
    page = client_for("viewer").get(reverse("runs:detail", args=[project.pk, run.pk]))
    html = page.content.decode()
    rows = html.split('class="table run-steps"')[1].split("</table>")[0]
    names = [
        "Source “",
        "Transformation “",
        "Target “",
        "Condition (step 4)",
        "(step 4 true, step 1)",
    ]
    positions = [rows.index(name) for name in names]
    assert positions == sorted(positions)  # the order the steps are drawn in
    assert "<td>12</td><td>9</td><td>3</td>" in rows  # the first target: in, out, failed
    assert "<td>9</td><td>9</td><td>0</td>" in rows  # the True branch's target
    assert "Sample records" in rows and "r1@example.com" in rows
    failures = html.split("Failed records (3)")[1]
    assert "Target “" in failures and "(step 3)" in failures


def test_a_lost_run_ended_mid_chain_reports_its_unknown_records_at_the_step(project, tmp_path):
    operation, steps = chain(project, tmp_path, count=4)
    from designer.design import operations

    operations.step_configure(step=steps["target"], user=None, config={"pass_on": "input"})
    b = add(operation, "target", activity=sink(project, tmp_path / "b"))
    records = [{"id": i, "email": f"r{i}@example.com"} for i in range(4)]
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    agent_heartbeat(name="dead@host", queues=["default"])
    assert run_claim(run_id=run.pk, agent_name="dead@host")
    OperationRun.objects.filter(pk=run.pk).update(
        in_flight_records=[{"key": r["email"], "record": r} for r in records],
        in_flight_done=[0],
        target_records=1,
        in_flight_stage={
            "step": b.pk,
            "queue": [{"step": b.pk, "items": [[i, r] for i, r in enumerate(records)]}],
            "outputs": {"0": None},
        },
        step_counts={
            str(b.pk): {
                "name": "Target “B” (step 4)",
                "kind": "target",
                "in": 4,
                "out": 1,
                "failed": 0,
            }
        },
        heartbeat_at=timezone.now() - timedelta(seconds=AGENT_LOST_SECONDS + 1),
    )
    assert runs_reap_lost() == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    lost = list(run.failures.order_by("index"))
    assert [f.index for f in lost] == [1, 2, 3]
    assert {(f.error_key, f.step_id, f.step_name) for f in lost} == {
        ("agent_lost", b.pk, "Target “B” (step 4)")
    }
    assert lost[0].error_message.startswith("Target “B” (step 4): Outcome unknown")
    assert run.in_flight_stage is None


def test_on_complete_starts_after_any_outcome(project, tmp_path):
    operation, steps = chain(project, tmp_path, count=3)
    after, _ = chain(project, tmp_path / "after", count=1, name="After")
    (tmp_path / "after").mkdir(exist_ok=True)
    Operation.objects.filter(pk=operation.pk).update(on_complete=after)
    run = execute(operation)
    assert run.status == RunStatus.SUCCESS
    assert OperationRun.objects.get(parent=run).operation == after
    target = steps["target"].activity
    target.config = {**target.config, "mode": "reconnect"}
    target.save()
    OperationRun.objects.filter(operation=after).delete()
    run = execute(operation)
    assert run.status == RunStatus.ERROR
    assert OperationRun.objects.get(parent=run).operation == after
    assert run.log_lines.filter(message__startswith="On Complete: started “After”").exists()


def test_an_invoke_only_operation_resumed_after_a_lost_agent_invokes_once(project, tmp_path):
    invoked, _ = chain(project, tmp_path, count=2, name="Nightly")
    orchestrator = Operation.objects.create(
        project=project, name="Orchestrator", on_agent_lost=AgentLostPolicy.REQUEUE
    )
    step = add(orchestrator, "invoke", config={"operation": invoked.pk, "wait": True})
    run = run_start(operation=orchestrator, trigger=RunTrigger.MANUAL)
    agent_heartbeat(name="dead@host", queues=["default"])
    assert run_claim(run_id=run.pk, agent_name="dead@host")
    # The dead attempt had started the child (and stored it with the stage) when it died.
    child = run_start(operation=invoked, trigger=RunTrigger.ACTION, parent=run)
    OperationRun.objects.filter(pk=run.pk).update(
        in_flight_records=[],
        in_flight_done=[],
        in_flight_stage={
            "step": step.pk,
            "queue": [{"step": step.pk, "items": []}],
            "outputs": {},
            "child": child.pk,
        },
        heartbeat_at=timezone.now() - timedelta(seconds=AGENT_LOST_SECONDS + 1),
    )
    assert runs_reap_lost() == [run.pk]
    run = engine.execute(run_id=run.pk, agent_name="next@host")
    assert run.status == RunStatus.SUCCESS, run.message
    assert list(OperationRun.objects.filter(parent=run).values_list("pk", flat=True)) == [child.pk]
    child.refresh_from_db()
    assert child.status == RunStatus.SUCCESS and child.target_records == 2
