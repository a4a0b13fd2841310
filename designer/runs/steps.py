"""The engine's pure steps: a record through a transformation, script or condition, a batch
written by a target, the results tallied.

No database and no Django here: the chain (``chain``) and the step preview (``preview``) walk
records through ``pure_step``; the loop (``engine``) wires these to the ledger (``ledger``),
which stores what they produce. Each is unit-tested on its own (tests/runs/test_steps.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import InterfaceError, OperationalError

from connectors.base import ActivityType, ConnectorError, RecordResult
from designer.transformations.mapping import MappingError
from designer.transformations.scripts import ScriptError

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class Item:
    """A record a target writes: its offset in the batch, the record as it entered, how a
    person recognises it, and the record sent."""

    offset: int
    record: Any
    key: str
    mapped: dict


@dataclass(frozen=True)
class Failure:
    offset: int  # within the chunk
    key: str
    error_key: str
    error_message: str
    record: Any
    step_id: int | None = None  # the step it failed at (multi-step chains)
    step_name: str = ""
    step_input: Any = None  # the record as it entered that step (a re-run re-enters there)


@dataclass
class Written:
    """What a write gave: one result per item (in order), and the error to raise once those
    results are stored, if the target gave up for good (permanent error, a bug)."""

    results: list[RecordResult]
    fatal: BaseException | None = None
    warning: str = ""  # a line for the run log (a transient failure, a short answer)
    warning_level: str = "warning"  # "error" when the connector is at fault


# ---------------------------------------------------------------------------------- chunking
def rechunk(batches: Iterable[list[dict]], size: int) -> Iterator[list[dict]]:
    """Re-cut a source's pages into batches of the target's size (memory stays one batch)."""
    pending: list[dict] = []
    for batch in batches:
        pending.extend(batch)
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def skip_first(chunks: Iterable[list[dict]], count: int) -> Iterator[tuple[int, list[dict]]]:
    """(position, chunk) after the first ``count`` records (a re-queued run resumes there)."""
    position = 0
    for chunk in chunks:
        if position + len(chunk) <= count:
            position += len(chunk)
            continue
        if position < count:
            chunk = chunk[count - position :]
            position = count
        yield position, chunk
        position += len(chunk)


def batch_size(activity_type: ActivityType, config: Mapping[str, Any]) -> int:
    return max(1, int(activity_type.batch_size(config) or DEFAULT_BATCH_SIZE))


def record_key(activity_type: ActivityType, record: Mapping[str, Any]) -> str:
    try:
        return str(activity_type.record_key(record) or "")[:300]
    except Exception:  # a key is a courtesy for the log; never fail a record over it
        return ""


# ------------------------------------------------------------------------------ pure steps
class PureNode(Protocol):
    """What ``pure_step`` reads of a step made ready to run (``designer.runs.plan.Node``)."""

    kind: str
    mapping: Any  # a transformation's compiled mapping
    script: Any  # a script's compiled script
    test: Callable[[Mapping[str, Any]], bool] | None  # a condition's compiled expression
    mode: str  # a condition's: route | filter


@dataclass(frozen=True)
class StepOutput:
    """What a transformation, script or condition made of one record."""

    record: Any = None  # the record passed on; None when it goes no further
    branch: str = ""  # a routing condition's "true" / "false"; "" is the main chain
    error_key: str = ""  # set when the record failed at this step
    error_message: str = ""
    left_out: str = ""  # why a record that did not fail goes no further
    variables: Mapping[str, Any] = field(default_factory=dict)  # project variables a script set


def pure_step(node: PureNode, record: Any) -> StepOutput:
    """One record through one in-memory step. A run (``chain``) and a step's preview
    (``preview``) both walk records through here, so a preview shows what a run would do."""
    if node.kind == "transformation":
        try:
            return StepOutput(node.mapping.apply(record))
        except MappingError as exc:
            return StepOutput(error_key="mapping_error", error_message=str(exc))
    if node.kind == "script":
        try:
            result = node.script.run(record)
        except ScriptError as exc:
            return StepOutput(error_key="script_error", error_message=exc.message)
        if result.record is None:
            return StepOutput(left_out="dropped by the script", variables=result.variables)
        return StepOutput(result.record, variables=result.variables)
    if node.kind == "condition":
        assert node.test is not None
        try:
            passed = node.test(record)
        except ScriptError as exc:
            return StepOutput(error_key="condition_error", error_message=exc.message)
        if node.mode == "route":
            return StepOutput(record, branch="true" if passed else "false")
        return StepOutput(record) if passed else StepOutput(left_out="filtered out")
    return StepOutput(record)  # a source mid-chain can't be drawn (validate_chain): passes


# ----------------------------------------------------------------------------------- writing
def write_batch(
    write: Callable[[list[dict]], Sequence[RecordResult]], items: Sequence[Item]
) -> Written:
    """Call the target once for these items and return exactly one result per item.

    A transient ConnectorError fails the records the target had not finished (``exc.done``
    keeps those it had); a permanent one or a bug in the target does the same and is handed
    back as ``fatal``, to be raised once the results are stored. A target that answers with
    the wrong number of results gets the missing ones failed (a connector bug, said so)."""
    if not items:
        return Written([])
    batch = [item.mapped for item in items]
    try:
        results = list(write(batch))
    except ConnectorError as exc:
        done = list(exc.done)[: len(items)]
        default_key = "error" if exc.permanent else "transient_error"
        rest = _failed(items[len(done) :], exc.key or default_key, exc.message)
        if exc.permanent:
            return Written(done + rest, fatal=exc)
        return Written(
            done + rest,
            warning=f"Batch of {len(batch)} records failed after retries: {exc.message}",
        )
    except (OperationalError, InterfaceError):
        # The database went away inside the target's call (its is_cancelled or log, a token
        # refresh): not the target's bug. The run goes to the agent-lost policy, which resumes
        # or reports the batch, instead of failing every record as internal_error.
        raise
    except Exception as exc:
        text = f"Internal error in the target: {type(exc).__name__}: {exc}"
        return Written(_failed(items, "internal_error", text), fatal=exc)
    if len(results) == len(items):
        return Written(results)
    warning = (
        f"The target returned {len(results)} results for {len(items)} records "
        "(a connector bug); records without a result are reported as failed."
    )
    results = results[: len(items)]
    results += _failed(
        items[len(results) :], "missing_result", "The target returned no result for this record."
    )
    return Written(results, warning=warning, warning_level="error")


def _failed(items: Sequence[Item], error_key: str, message: str) -> list[RecordResult]:
    return [
        RecordResult.failed(key=item.key, error_key=error_key, error_message=message)
        for item in items
    ]


# ----------------------------------------------------------------------------------- tallying
@dataclass
class Tally:
    """The outcome of one chunk, record by record: each offset counts once (failed at its
    first failing step, done at the end of its chain, or left out). ``take()`` hands over
    what has not been stored yet."""

    done: set[int] = field(default_factory=set)  # offsets with a counted result
    ok: int = 0  # this attempt's count, for the log line
    failed: int = 0
    output: str = ""  # the last external id a "written" result named (a file)
    _new_ok: int = 0
    _new_failures: list[Failure] = field(default_factory=list)

    def fail(self, failure: Failure) -> bool:
        """A record failed at a step: counted once, at the first step it failed at (a
        target's failed response may still flow on, e.g. to an error file)."""
        if failure.offset in self.done:
            return False
        self.done.add(failure.offset)
        self.failed += 1
        self._new_failures.append(failure)
        return True

    def finish(self, offset: int) -> bool:
        """A record reached the end of its chain: done, unless it failed on the way."""
        if offset in self.done:
            return False
        self.done.add(offset)
        self.ok += 1
        self._new_ok += 1
        return True

    def drop(self, offset: int) -> None:
        """A filter or a script left the record out: it has its outcome, with no count."""
        self.done.add(offset)

    @property
    def pending(self) -> bool:
        return bool(self._new_ok or self._new_failures)

    def take(self) -> tuple[int, list[Failure]]:
        """(written, failures) counted since the last take."""
        ok, failures = self._new_ok, self._new_failures
        self._new_ok, self._new_failures = 0, []
        return ok, failures

    def restore(self, ok: int, failures: list[Failure]) -> None:
        """Put back what ``take`` gave when storing it failed (tried again later)."""
        self._new_ok += ok
        self._new_failures = failures + self._new_failures
