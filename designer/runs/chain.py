"""One source batch through an operation's chain of steps (issue 11).

The batch moves step by step, as a queue of tasks (a step and the records entering it, each
with its offset in the source batch). Transformations, scripts and conditions are pure and
run in memory; before a target or an invoke step the ledger stores where the batch stands
(the tasks left, the counts so far), and while a target writes, each record's output as it
comes. A re-queued attempt after a lost agent starts from that stage: earlier targets are
not written again, and the interrupted target gets only records without a result (with
``resuming`` set and its journal).

Every record of the batch ends exactly one way: done (it reached the end of its chain),
failed at one step (a RecordFailure naming the step), or left out by a filter or a script.
A target's failed record may still flow on in its response (to an error file, say); it
counts as failed once, at that target.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import InterfaceError, OperationalError

from connectors.base import RecordResult
from designer.design.models import StepKind
from designer.runs import steps
from designer.runs.ledger import Lost, RunLedger, truncate_json
from designer.runs.models import RunStatus
from designer.runs.plan import Node, Plan

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 1.0  # per-record results are committed at least this often
SAMPLES = 3  # records kept in and out of each step on a debug run


class Host(Protocol):
    """What the engine's loop gives a batch: the ledger, stopping, targets and invokes."""

    ledger: RunLedger
    debug: bool

    def write(
        self,
        node: Node,
        records: list[dict],
        *,
        resuming: bool,
        on_result: Callable[[int, RecordResult], None],
    ) -> steps.Written: ...

    def invoke(
        self,
        node: Node,
        records: list[dict] | None,
        *,
        child_id: int | None,
        remember: Callable[[int], None],
    ) -> str: ...

    def mark_lost(self) -> None: ...

    def is_cancelled(self) -> bool: ...


@dataclass
class Outcome:
    ok: int = 0
    failed: int = 0
    dropped: int = 0
    variables: dict[str, Any] = field(default_factory=dict)  # set by scripts
    fatal: BaseException | None = None  # raise once the batch's results are stored
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (level, line) to log
    # (offset, record) for each record that reached the end of its chain, as the last step
    # gave it: what a synchronous run answers with (the engine keeps them if the run asked).
    responses: list[tuple[int, Any]] = field(default_factory=list)


def response_of(record: Any, result: RecordResult) -> dict[str, Any]:
    """What a target's response path carries on for one record."""
    carried = {
        "record": record,
        "ok": result.ok,
        "id": result.external_id,
        "action": result.action,
        "error_key": result.error_key,
        "error_message": result.error_message,
    }
    if result.response is not None:  # what the target read for it (e.g. a report)
        carried["response"] = dict(result.response)
    return carried


class ChainBatch:
    def __init__(
        self,
        host: Host,
        plan: Plan,
        chunk: Sequence[Any],
        keys: Sequence[str],
        tally: steps.Tally,
        *,
        resume_stage: dict[str, Any] | None = None,
        resume_first_target: bool = False,
        from_source: bool = True,
        entries: dict[int, tuple[int, Any]] | None = None,
        progress_seconds: float = PROGRESS_SECONDS,
    ) -> None:
        self.progress_seconds = progress_seconds
        self.host = host
        self.ledger = host.ledger
        self.plan = plan
        self.chunk = chunk
        self.keys = keys
        self.tally = tally
        self.resume_stage = resume_stage
        self.resume_first_target = resume_first_target
        self.from_source = from_source
        self.entries = entries or {}
        self.outcome = Outcome()
        self.queue: list[dict[str, Any]] = []
        self.stopped: tuple[str, str] | None = None  # (error key, message) once cancelled
        self.stepped = False  # a step ran (the engine checked for a cancel before the batch)

    # ------------------------------------------------------------------------ the batch
    def run(self) -> Outcome:
        if self.resume_stage is not None:
            self.queue = [dict(task) for task in self.resume_stage.get("queue", [])]
        else:
            self.queue = self._first_tasks()
        while self.queue:
            task = self.queue[0]
            node = self.plan.nodes.get(task["step"])
            items = [list(item) for item in task["items"]]
            if node is None:  # the step was deleted since the stage was stored
                self.queue.pop(0)
                self._fail_all(items, None, "step_missing", "The step no longer exists.")
                continue
            if self.outcome.fatal is not None:
                self.queue.pop(0)
                self._fail_all(
                    items,
                    node,
                    "run_stopped",
                    f"Not processed: the run stopped ({self.outcome.fatal}).",
                )
                continue
            resuming = self.resume_stage is not None and task is self._resumed_task()
            stop = self._stop_before(node) if self.stepped and not resuming else None
            if stop is not None:
                # Checked before every step, not only between batches: a cancel pressed
                # during a long step stops the chain before the next one starts, and the
                # records still on their way are reported at the step they didn't enter.
                self.queue.pop(0)
                self._fail_all(items, node, *stop)
                continue
            outputs = self._step(node, items, resuming=resuming)
            self.stepped = True
            self.queue.pop(0)
            self.resume_stage = None if resuming else self.resume_stage
            self._forward(node, outputs)
        return self.outcome

    def _stop_before(self, node: Node) -> tuple[str, str] | None:
        """(error key, message) once a cancel (or the time-out) came, else None: the host
        re-reads the run's status at most every half second. Kept for the rest of the batch."""
        if self.stopped is None and self.host.is_cancelled():
            status = self.ledger.status()
            if status is None:
                raise Lost()
            key, why = (
                ("canceled", "was canceled")
                if status == RunStatus.CANCEL_REQUESTED
                else ("timed_out", "timed out")
            )
            self.stopped = (key, f"Not processed: the run {why} before this step.")
            self.outcome.warnings.append(
                (
                    "warning",
                    f"The run {why} before {node.name}: the records not yet through the chain "
                    "are reported as failed at the step they didn't enter.",
                )
            )
        return self.stopped

    def _resumed_task(self) -> dict[str, Any] | None:
        """The task the stored stage was at (the first of its queue), once."""
        stage = self.resume_stage
        if stage is None or not self.queue:
            return None
        return self.queue[0] if self.queue[0]["step"] == stage.get("step") else None

    def _first_tasks(self) -> list[dict[str, Any]]:
        source = self.plan.source
        done = self.tally.done
        if source is not None and self.from_source:
            counts = self._counts(source)
            counts["in"] += len(self.chunk)
            counts["out"] += len(self.chunk)
            self._sample(source, "out", self.chunk)
        grouped: dict[int | None, list[list[Any]]] = {}
        for offset, record in enumerate(self.chunk):
            if offset in done:
                continue
            entry = self.entries.get(offset)
            if entry is not None and entry[0] in self.plan.nodes:
                grouped.setdefault(entry[0], []).append([offset, entry[1]])
            else:
                grouped.setdefault(self.plan.entry, []).append([offset, record])
        tasks = []
        for step, items in grouped.items():
            if step is None:  # a source alone: every record is done as read
                for offset, record in items:
                    self._finish(offset)
                    self.outcome.responses.append((offset, record))
            else:
                tasks.append({"step": step, "items": items})
        if not self.chunk and self.plan.entry is not None and not self.from_source:
            tasks.append({"step": self.plan.entry, "items": []})  # an invoke-only operation
        return tasks

    def _forward(self, node: Node, outputs: dict[str, list[list[Any]]]) -> None:
        """Hand each step's output to what follows it; the end of a chain finishes them."""
        ahead: list[dict[str, Any]] = []
        for branch, items in outputs.items():
            nxt = node.branches.get(branch) if branch else node.next
            if nxt is None:
                for offset, record in items:
                    self._finish(offset)
                    self.outcome.responses.append((offset, record))
            elif items or (node.kind == StepKind.INVOKE and not self.chunk):
                ahead.append({"step": nxt, "items": items})
        self.queue[0:0] = ahead

    def _finish(self, offset: int) -> None:
        if self.tally.finish(offset):
            self.outcome.ok += 1

    # ---------------------------------------------------------------------------- steps
    def _step(self, node: Node, items: list[list[Any]], *, resuming: bool) -> dict[str, list]:
        if node.kind == StepKind.TARGET:
            return self._target(node, items, resuming=resuming)
        if node.kind == StepKind.INVOKE:
            return self._invoke(node, items, resuming=resuming)
        counts = self._counts(node)
        counts["in"] += len(items)
        self._sample(node, "in", [record for _, record in items])
        out: dict[str, list[list[Any]]] = {}
        if node.kind != StepKind.CONDITION or node.mode != "route":
            out[""] = []  # the main chain goes on, even with no record
        for offset, record in items:
            done = steps.pure_step(node, record)
            if done.error_key:
                self._fail(offset, node, done.error_key, done.error_message, record)
                continue
            self.outcome.variables.update(done.variables)
            if done.record is None:
                self._drop(offset)
            else:
                out.setdefault(done.branch, []).append([offset, done.record])
        passed_on = sum(len(v) for v in out.values())
        counts["out"] += passed_on
        self._sample(node, "out", [r for v in out.values() for _, r in v])
        return out

    def _target(self, node: Node, items: list[list[Any]], *, resuming: bool) -> dict[str, list]:
        counts = self._counts(node)
        if resuming:
            stage = self.resume_stage or {}
            outputs: dict[str, Any] = dict(stage.get("outputs") or {})
        else:
            counts["in"] += len(items)
            self._sample(node, "in", [record for _, record in items])
            outputs = {}
            self._store_stage(node, outputs)
        stage_outputs = outputs  # the dict stored with progress (mutated below)
        remaining = [item for item in items if str(item[0]) not in outputs]
        last = time.monotonic()
        handled: set[int] = set()

        def handle(index: int, result: RecordResult) -> None:
            offset, record = remaining[index]
            handled.add(index)
            if result.ok:
                counts["out"] += 1
                if result.action == "written" and result.external_id:
                    self.tally.output = result.external_id
            else:
                counts["failed"] += 1
                self._fail(
                    offset, node, result.error_key, result.error_message, record, key=result.key
                )
            if node.ends_chain:
                stage_outputs[str(offset)] = None
                self.outcome.responses.append((offset, response_of(record, result)))
                if result.ok:
                    self._finish(offset)
            elif node.pass_on == "input":
                stage_outputs[str(offset)] = record
            else:
                stage_outputs[str(offset)] = response_of(record, result)

        def on_result(index: int, result: RecordResult) -> None:
            nonlocal last
            if not 0 <= index < len(remaining) or index in handled:
                return
            handle(index, result)
            if time.monotonic() - last < self.progress_seconds:
                return
            last = time.monotonic()
            try:
                self._store_stage(node, stage_outputs)
            except Lost:
                self.host.mark_lost()
            except (OperationalError, InterfaceError):
                # Kept in memory (the tally puts it back): stored with the next progress or
                # the batch, or resumed by the next attempt.
                logger.warning("Progress of %s not stored", node.name, exc_info=True)

        written = self.host.write(
            node,
            [record for _, record in remaining],
            resuming=resuming or (self.resume_first_target and node.journal_prefix == ""),
            on_result=on_result,
        )
        if isinstance(written.fatal, Lost):
            raise Lost()
        if written.warning:
            self.outcome.warnings.append((written.warning_level, f"{node.name}: {written.warning}"))
        for index, result in enumerate(written.results):
            if index not in handled:
                handle(index, result)
        if written.fatal is not None:
            self.outcome.fatal = written.fatal
        flowing = [
            [offset, stage_outputs[str(offset)]]
            for offset, _ in items
            if stage_outputs.get(str(offset)) is not None
        ]
        if not node.ends_chain:
            self._sample(node, "out", [r for _, r in flowing])
        return {"": flowing} if not node.ends_chain else {}

    def _invoke(self, node: Node, items: list[list[Any]], *, resuming: bool) -> dict[str, list]:
        counts = self._counts(node)
        stage: dict[str, Any]
        if resuming and self.resume_stage is not None:
            stage = self.resume_stage
        else:
            counts["in"] += len(items)
            stage = self._store_stage(node, {})

        def remember(child_id: int) -> None:
            # Stored with the child run's creation (one transaction): a re-queued attempt
            # finds the child instead of starting the operation twice.
            stage["child"] = child_id
            self.ledger.store_stage(self.tally, stage)

        if items or not self.chunk:
            records = [record for _, record in items] if items else None
            error = self.host.invoke(node, records, child_id=stage.get("child"), remember=remember)
        else:
            error = ""
        if error:
            counts["failed"] += len(items)
            for offset, record in items:
                self._fail(offset, node, "invoke_failed", error, record)
            return {}
        counts["out"] += len(items)
        return {"": items}

    # ------------------------------------------------------------------------ bookkeeping
    def _store_stage(self, node: Node, outputs: dict[str, Any]) -> dict[str, Any]:
        stage = {"step": node.id, "queue": self.queue, "outputs": outputs}
        self.ledger.store_stage(self.tally, stage)
        return stage

    def _counts(self, node: Node) -> dict[str, Any]:
        counts = self.ledger.step_counts.get(str(node.id))
        if counts is None:
            counts = {"name": node.name, "kind": node.kind, "in": 0, "out": 0, "failed": 0}
            self.ledger.step_counts[str(node.id)] = counts
        return counts

    def _sample(self, node: Node, way: str, records: Sequence[Any]) -> None:
        """A debug run keeps the first few records into and out of each step."""
        if not self.host.debug or not records:
            return
        samples = self._counts(node).setdefault("samples", {"in": [], "out": []})
        kept = samples.setdefault(way, [])
        for record in records[: max(0, SAMPLES - len(kept))]:
            kept.append(truncate_json(self.ledger.redact(record), 2000))

    def _fail(
        self, offset: int, node: Node | None, error_key: str, message: str, record: Any, key=""
    ) -> None:
        if node is not None and node.kind not in (StepKind.TARGET, StepKind.INVOKE):
            self._counts(node)["failed"] += 1
        failure = steps.Failure(
            offset=offset,
            key=key or self.keys[offset],
            error_key=error_key or "error",
            error_message=message,
            record=self.chunk[offset],
            step_id=node.id if node else None,
            step_name=node.name if node else "",
            step_input=record,
        )
        if self.tally.fail(failure):
            self.outcome.failed += 1

    def _fail_all(self, items, node: Node | None, error_key: str, message: str) -> None:
        for offset, record in items:
            self._fail(offset, node, error_key, message, record)

    def _drop(self, offset: int) -> None:
        if offset not in self.tally.done:
            self.tally.drop(offset)
            self.outcome.dropped += 1
