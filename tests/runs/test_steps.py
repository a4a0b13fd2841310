"""The engine's pure steps, without a database: a record through a transformation, script or
condition, a batch written by a target, the results tallied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError

from connectors.base import ConnectorError, RecordResult
from designer.runs import steps
from designer.transformations.mapping import MappingError
from designer.transformations.scripts import compile_condition, compile_script


class Mapping:
    """Upper-cases ``email``; refuses records without one."""

    def apply(self, record):
        if "email" not in record:
            raise MappingError("email", "no email")
        return {"email": record["email"].upper()}


@dataclass
class Node:
    """The part of a planned step ``pure_step`` reads."""

    kind: str
    mapping: Any = None
    script: Any = None
    test: Any = None
    mode: str = "route"


CHUNK = [{"email": "a"}, {"name": "no email"}, {"email": "c"}, {"email": "d"}]
ITEMS = [steps.Item(i, r, r.get("email", "?"), r) for i, r in enumerate(CHUNK) if "email" in r]


def test_a_transformation_maps_a_record_or_fails_it_alone():
    node = Node("transformation", mapping=Mapping())
    assert steps.pure_step(node, {"email": "a"}) == steps.StepOutput({"email": "A"})
    failed = steps.pure_step(node, {"name": "no email"})
    assert failed.record is None and failed.error_key == "mapping_error"
    assert "no email" in failed.error_message


def test_a_script_changes_drops_or_fails_a_record_and_sets_variables():
    node = Node("script", script=compile_script('name = "x"\n$last = email'))
    out = steps.pure_step(node, {"email": "a"})
    assert out.record == {"email": "a", "name": "x"} and out.variables == {"last": "a"}
    dropping = Node("script", script=compile_script("skip if true"))
    out = steps.pure_step(dropping, {"email": "a"})
    assert out.record is None and out.left_out == "dropped by the script" and not out.error_key
    failing = Node("script", script=compile_script("n = 1 / count"))
    out = steps.pure_step(failing, {"count": 0})
    assert out.error_key == "script_error" and out.error_message.startswith("line 1:")


@pytest.mark.parametrize(
    ("mode", "record", "expected"),
    [
        ("route", {"n": 5}, steps.StepOutput({"n": 5}, branch="true")),
        ("route", {"n": 1}, steps.StepOutput({"n": 1}, branch="false")),
        ("filter", {"n": 5}, steps.StepOutput({"n": 5})),
        ("filter", {"n": 1}, steps.StepOutput(left_out="filtered out")),
    ],
)
def test_a_condition_routes_or_filters(mode, record, expected):
    node = Node("condition", test=compile_condition("n > 2"), mode=mode)
    assert steps.pure_step(node, record) == expected


def test_write_batch_gives_one_result_per_item():
    written = steps.write_batch(
        lambda batch: [RecordResult.done(key=r["email"]) for r in batch], ITEMS
    )
    assert [r.key for r in written.results] == ["a", "c", "d"]
    assert written.fatal is None and written.warning == ""


def test_write_batch_fills_a_short_answer_and_says_so():
    written = steps.write_batch(lambda batch: [RecordResult.done()], ITEMS)
    assert [r.error_key for r in written.results] == ["", "missing_result", "missing_result"]
    assert written.warning_level == "error" and "returned 1 results for 3" in written.warning


def test_write_batch_keeps_what_was_done_before_a_transient_error():
    def write(batch):
        exc = ConnectorError("503 after 3 tries", permanent=False, key="service_unavailable")
        exc.done = [RecordResult.done(key="A")]
        raise exc

    written = steps.write_batch(write, ITEMS)
    assert [(r.ok, r.error_key) for r in written.results] == [
        (True, ""),
        (False, "service_unavailable"),
        (False, "service_unavailable"),
    ]
    assert written.fatal is None and "failed after retries" in written.warning


def test_write_batch_hands_back_a_permanent_error_or_a_bug_as_fatal():
    def refuse(batch):
        raise ConnectorError("Forbidden", permanent=True, key="forbidden")

    written = steps.write_batch(refuse, ITEMS)
    assert isinstance(written.fatal, ConnectorError)
    assert {r.error_key for r in written.results} == {"forbidden"}

    def bug(batch):
        raise ZeroDivisionError("oops")

    written = steps.write_batch(bug, ITEMS)
    assert isinstance(written.fatal, ZeroDivisionError)
    assert {r.error_key for r in written.results} == {"internal_error"}


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_write_batch_lets_a_lost_database_through_instead_of_failing_the_records(error):
    # A database cut inside the target's call (its is_cancelled or log, a token refresh
    # under a row lock) is not the target's bug: the run goes to the agent-lost policy and
    # the batch is resumed, rather than every record of it failing as internal_error.
    def write(batch):
        raise error("server closed the connection unexpectedly")

    with pytest.raises(error):
        steps.write_batch(write, ITEMS)


def failure(offset: int) -> steps.Failure:
    return steps.Failure(offset, CHUNK[offset].get("email", "?"), "x", "no", CHUNK[offset])


def test_tally_counts_each_record_once():
    tally = steps.Tally()
    assert tally.fail(failure(1))
    assert tally.finish(0)
    assert tally.take() == (1, [failure(1)])
    assert not tally.pending
    # A record that failed at a target may still flow on to the end of its chain: it stays
    # failed, counted once.
    assert not tally.finish(1) and not tally.fail(failure(0))
    tally.drop(2)  # left out by a filter: an outcome, no count
    assert tally.fail(failure(3))
    ok, failures = tally.take()
    assert ok == 0 and [f.offset for f in failures] == [3]
    assert tally.done == {0, 1, 2, 3} and (tally.ok, tally.failed) == (1, 2)


def test_tally_restore_gives_back_what_could_not_be_stored():
    tally = steps.Tally()
    tally.finish(0)
    ok, failures = tally.take()
    tally.restore(ok, failures)
    assert tally.pending and tally.take() == (1, [])


def test_rechunk_and_skip_first():
    pages = [[1, 2, 3], [4], [5, 6, 7, 8]]
    assert list(steps.rechunk(pages, 3)) == [[1, 2, 3], [4, 5, 6], [7, 8]]
    assert list(steps.skip_first(steps.rechunk(pages, 3), 4)) == [(4, [5, 6]), (6, [7, 8])]
