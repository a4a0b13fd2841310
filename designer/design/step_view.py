"""How an operation's steps read on its card: the main chain left to right, a condition's
branches under it, each step with a short label and a line saying what it is.

Built from ``operation.steps.all()``, so a page that prefetches the steps (with their activity,
connection and transformation) draws every card without a query per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from designer.design.models import Operation, Step, StepKind

KIND_NAMES = {
    StepKind.SOURCE: "Source",
    StepKind.TRANSFORMATION: "Transformation",
    StepKind.TARGET: "Target",
    StepKind.SCRIPT: "Script",
    StepKind.CONDITION: "Condition",
    StepKind.INVOKE: "Invoke operation",
}
# The palette's Tools: the steps that are not an endpoint's activity, in palette order, each
# with what it does. The one list: the step services, the Add a step dialog and the Tools tab
# read it (a tool's key is its StepKind value).
TOOLS: dict[str, str] = {
    StepKind.TRANSFORMATION: "Maps each record's fields to the next step's.",
    StepKind.SCRIPT: "Filters records, changes fields, sets project variables.",
    StepKind.CONDITION: "Routes each record to a True or a False branch, or filters.",
    StepKind.INVOKE: "Runs another operation of the project, waiting or not.",
}
TOOL_NAMES = {str(kind): KIND_NAMES[kind] for kind in TOOLS}  # key -> name, palette order
BRANCHES = (("true", "True"), ("false", "False"))


@dataclass
class StepItem:
    step: Step
    number: int  # 1-based within its chain
    label: str
    detail: str
    kind_name: str
    after_target: bool = False  # a transformation after a target maps the target's response
    branches: list[tuple[str, str, list[StepItem]]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.step.kind)


@dataclass
class Chain:
    operation: Operation
    steps: list[StepItem]

    @property
    def count(self) -> int:
        return len(self.steps)


def _clip(text: str, size: int = 60) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= size else line[: size - 1] + "…"


def _describe(step: Step, names: dict[int, str]) -> tuple[str, str]:
    """(label, detail) of one step."""
    config: dict[str, Any] = step.config or {}
    kind = step.kind
    if kind in (StepKind.SOURCE, StepKind.TARGET):
        activity = step.activity
        if activity is None:
            return "Activity deleted", KIND_NAMES[kind]
        endpoint = activity.connection.name if activity.connection_id else ""
        detail = f"{KIND_NAMES[kind]} · {endpoint}" if endpoint else KIND_NAMES[kind]
        if kind == StepKind.TARGET and config.get("pass_on") == "input":
            detail += " · passes its input on"
        return activity.name, detail
    if kind == StepKind.TRANSFORMATION:
        name = step.transformation.name if step.transformation is not None else "No mapping"
        return name, "Transformation"
    if kind == StepKind.SCRIPT:
        return "Script", _clip(config.get("script", "")) or "Empty script"
    if kind == StepKind.CONDITION:
        mode = "filter" if config.get("mode") == "filter" else "route"
        expression = _clip(config.get("expression", "")) or "no expression yet"
        return "Condition", f"{mode}: {expression}"
    if kind == StepKind.INVOKE:
        target = names.get(config.get("operation") or 0)
        wait = "waits" if config.get("wait") else "does not wait"
        label = f"Invoke “{target}”" if target else "Invoke operation"
        return label, f"Invoke operation · {wait}" if target else "Choose the operation"
    return str(kind), ""


def _items(steps: list[Step], children: dict[int, list[Step]], names: dict[int, str]):
    items = []
    seen_target = False
    for number, step in enumerate(steps, start=1):
        label, detail = _describe(step, names)
        item = StepItem(
            step=step,
            number=number,
            label=label,
            detail=detail,
            kind_name=KIND_NAMES.get(step.kind, str(step.kind)),
            after_target=seen_target and step.kind == StepKind.TRANSFORMATION,
        )
        if item.after_target:
            item.kind_name = "Response transformation"
            item.detail = "Response transformation"
        if step.kind == StepKind.CONDITION:
            kids = children.get(step.pk, [])
            for branch, title in BRANCHES:
                chain = [c for c in kids if c.branch == branch]
                item.branches.append((branch, title, _items(chain, children, names)))
        seen_target = seen_target or step.kind == StepKind.TARGET
        items.append(item)
    return items


def chain_of(operation: Operation, operation_names: dict[int, str] | None = None) -> Chain:
    """The operation's steps as its card shows them (uses the prefetched steps if any)."""
    steps = sorted(operation.steps.all(), key=lambda s: (s.position, s.pk))
    main = [s for s in steps if s.parent_id is None]
    children: dict[int, list[Step]] = {}
    for s in steps:
        if s.parent_id is not None:
            children.setdefault(s.parent_id, []).append(s)
    names = dict(operation_names or {})
    wanted = {
        s.config.get("operation")
        for s in steps
        if s.kind == StepKind.INVOKE and isinstance(s.config, dict) and s.config.get("operation")
    }
    missing = {i for i in wanted if i not in names}
    if missing:  # only operations with invoke steps pay this query
        names.update(
            Operation.objects.filter(project_id=operation.project_id, pk__in=missing).values_list(
                "pk", "name"
            )
        )
    return Chain(operation=operation, steps=_items(main, children, names))
