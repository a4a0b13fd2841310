"""An operation's steps made ready to run: each step compiled once (mappings, scripts,
conditions) and linked to the step that follows it (issue 11).

The main chain runs left to right; a routing condition hands each record to the first step
of its True or False branch; the end of any chain is the end of that record's way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from designer.design.models import Activity, Operation, Step, StepKind
from designer.design.step_view import KIND_NAMES  # one list of step kinds' names
from designer.transformations.mapping import CompiledMapping, compile_mapping
from designer.transformations.scripts import (
    CompiledScript,
    ScriptError,
    compile_condition,
    compile_script,
)


class PlanError(Exception):
    """The steps can't run as they are; the message says which step and why."""


@dataclass
class Node:
    id: int
    kind: str
    name: str  # for people: "Target “Add contacts” (step 3)"
    next: int | None = None  # the following step of its chain
    branches: dict[str, int | None] = field(default_factory=dict)  # a routing condition's
    activity: Activity | None = None
    mapping: CompiledMapping | None = None
    script: CompiledScript | None = None
    test: Callable[[Mapping[str, Any]], bool] | None = None
    mode: str = "route"  # condition: route | filter
    pass_on: str = "response"  # target: response | input
    invoke: int | None = None  # the operation an invoke step runs
    wait: bool = False
    journal_prefix: str = ""  # the first target keeps the plain journal keys

    @property
    def ends_chain(self) -> bool:
        return self.next is None and not self.branches


@dataclass
class Plan:
    nodes: dict[int, Node]
    source: Node | None
    entry: int | None  # the first step records go through (after the source)
    order: list[int]  # every step, in reading order (the run page's rows)

    def targets(self) -> list[Node]:
        return [self.nodes[i] for i in self.order if self.nodes[i].kind == StepKind.TARGET]


def steps_of(operation: Operation) -> list[Step]:
    """The operation's steps, with what they use."""
    return list(operation.steps.select_related("activity__connection", "transformation"))


def build_plan(operation: Operation, steps: list[Step] | None = None) -> Plan:
    steps = steps_of(operation) if steps is None else steps
    chains: dict[tuple[int | None, str], list[Step]] = {}
    for step in steps:
        chains.setdefault((step.parent_id, step.branch or ""), []).append(step)
    for chain in chains.values():
        chain.sort(key=lambda s: (s.position, s.pk))
    nodes: dict[int, Node] = {}
    order: list[int] = []
    first_target = True

    def walk(key: tuple[int | None, str], prefix: str) -> int | None:
        nonlocal first_target
        chain = chains.get(key, [])
        previous: Node | None = None
        first: int | None = None
        for index, step in enumerate(chain, start=1):
            node = _node(step, f"{prefix}{index}")
            if node.kind == StepKind.TARGET:
                node.journal_prefix = "" if first_target else f"step{step.pk}:"
                first_target = False
            nodes[step.pk] = node
            order.append(step.pk)
            if previous is not None:
                previous.next = step.pk
            first = first if first is not None else step.pk
            previous = node
            if node.kind == StepKind.CONDITION and node.mode == "route":
                for branch in ("true", "false"):
                    node.branches[branch] = walk(
                        (step.pk, branch), f"{prefix}{index} {branch}, step "
                    )
        return first

    entry = walk((None, ""), "step ")
    source = nodes.get(entry) if entry is not None else None
    if source is not None and source.kind == StepKind.SOURCE:
        entry = source.next
    else:
        source = None
    return Plan(nodes=nodes, source=source, entry=entry, order=order)


def _node(step: Step, where: str) -> Node:
    kind = step.kind
    what = KIND_NAMES.get(kind, kind)
    named = ""
    if step.activity_id is not None:
        named = f" “{step.activity.name}”"
    elif step.transformation_id is not None:
        named = f" “{step.transformation.name}”"
    node = Node(id=step.pk, kind=kind, name=f"{what}{named} ({where})")
    config = step.config or {}
    if kind in (StepKind.SOURCE, StepKind.TARGET):
        if step.activity is None:
            raise PlanError(f"{node.name} has no activity.")
        node.activity = step.activity
        node.pass_on = config.get("pass_on", "response")
    elif kind == StepKind.TRANSFORMATION:
        node.mapping = compile_mapping(step.transformation.mapping if step.transformation else None)
    elif kind == StepKind.SCRIPT:
        try:
            node.script = compile_script(str(config.get("script", "")))
        except ScriptError as exc:
            raise PlanError(f"{node.name}: {exc.message}") from None
    elif kind == StepKind.CONDITION:
        node.mode = config.get("mode", "route")
        try:
            node.test = compile_condition(str(config.get("expression", "")))
        except ScriptError as exc:
            raise PlanError(f"{node.name}: {exc.message}") from None
    elif kind == StepKind.INVOKE:
        if not config.get("operation"):
            raise PlanError(f"{node.name}: choose the operation to invoke.")
        node.invoke = int(config["operation"])
        node.wait = bool(config.get("wait"))
    return node
