"""Test/Preview of one step (issue 11), like n8n's "execute step": nothing is written.

A source step shows the first records it reads (MAPPING_PREVIEW_RECORDS), with read-only
calls only: the context is ``read_only``, so a connector refuses any other call before it is
sent (a source that needs one, such as a Constant Contact export, can't be previewed). A
transformation, script or condition shows those records going in and what comes out, after
the pure steps before it. A step whose input is a target's response can't be previewed: that
response exists only once a run writes (a debug run keeps samples in and out of every step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from designer.design.models import Step, StepKind
from designer.runs.plan import Node, Plan, PlanError, build_plan
from designer.runs.steps import pure_step
from designer.transformations import expression_limits
from designer.transformations.services import read_for_preview


@dataclass
class StepPreview:
    records_in: list[Any] = field(default_factory=list)
    records_out: list[Any] = field(default_factory=list)
    # (record in, record out or None, note such as "False branch" or "dropped")
    pairs: list[tuple[Any, Any, str]] | None = None
    note: str = ""
    error: str = ""


def preview_step(step: Step, *, user: Any = None) -> StepPreview:
    operation = step.operation
    try:
        plan = build_plan(operation)
    except PlanError as exc:
        return StepPreview(error=str(exc))
    if plan.source is None:
        return StepPreview(error="The operation has no source to preview from.")
    # The same read-only read as the mapping editor's preview (one guard for both).
    records, problem = read_for_preview(plan.source.activity)
    if problem:
        return StepPreview(error=problem)
    if step.kind == StepKind.SOURCE:
        return StepPreview(records_out=records, note=_read_note(records))
    found = _Walk(plan, step.pk)
    with expression_limits.bounded(settings.MAPPING_PREVIEW_TIME_LIMIT):
        found.flow(plan.entry, [(i, r) for i, r in enumerate(records)])
    if found.result is not None and found.failed_before:
        found.result.note = (
            f"{found.failed_before} of the first records failed in an earlier step "
            "and don't reach this one."
        )
    if found.result is None:
        if found.blocked:
            return StepPreview(
                error=f"This step works on what {found.blocked} gives back, which only a "
                "run that writes produces. Run the operation with debug logging on to see "
                "samples of each step's records."
            )
        return StepPreview(error="No record reaches this step in the first records read.")
    return found.result


def _read_note(records: list[Any]) -> str:
    limit = settings.MAPPING_PREVIEW_RECORDS
    if len(records) < limit:
        return f"The source gave {len(records)} records."
    return f"The first {limit} records the source gives."


class _Walk:
    """Records through the pure steps up to the previewed one (targets are never called)."""

    def __init__(self, plan: Plan, step_id: int) -> None:
        self.plan = plan
        self.step_id = step_id
        self.result: StepPreview | None = None
        self.blocked = ""  # the target (or invoke) in the way, if any
        self.failed_before = 0

    def flow(self, node_id: int | None, items: list[tuple[int, Any]]) -> None:
        while node_id is not None and self.result is None:
            node = self.plan.nodes[node_id]
            if node.id == self.step_id:
                self.result = self._preview(node, items)
                return
            if node.kind in (StepKind.TARGET, StepKind.INVOKE):
                self.blocked = self.blocked or node.name
                return
            outputs = self._apply(node, items)
            self.failed_before += sum(1 for _, _, note in outputs if note.startswith("fails"))
            if node.kind == StepKind.CONDITION and node.mode == "route":
                for branch in ("true", "false"):
                    passed = [(i, r) for i, r, note in outputs if note == f"{branch} branch"]
                    self.flow(node.branches.get(branch), passed)
                return
            items = [(i, r) for i, r, _ in outputs if r is not None]
            node_id = node.next

    def _apply(self, node: Node, items) -> list[tuple[int, Any, str]]:
        """(offset, record out or None, note) per record in, as a run's ``steps.pure_step``
        makes them; a failure is its note."""
        out = []
        for offset, record in items:
            done = pure_step(node, record)
            if done.error_key:
                out.append((offset, None, f"fails: {done.error_message}"))
                continue
            note = f"{done.branch} branch" if done.branch else done.left_out
            if done.variables:
                names = ", ".join(f"${name}" for name in done.variables)
                note = (note + "; " if note else "") + f"sets {names}"
            out.append((offset, done.record, note))
        return out

    def _preview(self, node: Node, items: list[tuple[int, Any]]) -> StepPreview:
        if node.kind in (StepKind.TARGET, StepKind.INVOKE):
            return StepPreview(
                records_in=[r for _, r in items],
                error="Targets and invoke steps are not previewed: they would write.",
            )
        with_notes = self._apply(node, items)
        records_in = [r for _, r in items]
        pairs = [
            (rec, out, note) for rec, (_, out, note) in zip(records_in, with_notes, strict=True)
        ]
        return StepPreview(
            records_in=records_in,
            records_out=[out for _, out, _ in with_notes if out is not None],
            pairs=pairs,
        )
