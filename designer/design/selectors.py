"""Reads for the designer page, each a fixed number of queries however big the project."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects

from connectors.base import ActivityType, Connector
from connectors.registry import all_connectors, get_connector
from designer.design import integrations, undo
from designer.design.models import (
    Activity,
    Connection,
    Operation,
    Step,
    Transformation,
    Workflow,
    default_workflow,
)
from designer.projects.models import Project

CHAIN_KINDS = (("success", "On Success"), ("fail", "On Fail"), ("complete", "On Complete"))


@dataclass
class ActivityTypeGroup:
    type: ActivityType
    activities: list[Activity]


@dataclass
class Endpoint:
    connection: Connection
    connector: Connector | None  # None: its connector is not installed here
    groups: list[ActivityTypeGroup]


@dataclass
class OperationCard:
    operation: Operation
    source: Activity | None = None
    target: Activity | None = None
    last_run: Any = None
    run_url: str = ""
    log_url: str = ""
    settings_url: str = ""
    transformation_url: str = ""

    @property
    def slots(self) -> list[tuple[str, Activity | None]]:
        """Left to right: source, transformation, target."""
        return [("source", self.source), ("transformation", None), ("target", self.target)]


@dataclass
class Arrow:
    """A chain arrow on the board: ``source`` starts ``target`` on success, fail or complete."""

    source: Operation
    target: Operation
    kind: str
    label: str

    @property
    def description(self) -> str:
        return f"{self.label}: {self.source.name} → {self.target.name}"


@dataclass
class DesignerData:
    connectors: list[Connector]
    connections: list[Connection]
    operations: list[Operation]
    transformations: list[Transformation]
    endpoints: list[Endpoint] = field(default_factory=list)
    cards: list[OperationCard] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    undo_label: str = ""
    redo_label: str = ""
    # The board shows one workflow (a tab) at a time.
    workflows: list[Workflow] = field(default_factory=list)
    workflow: Workflow | None = None
    arrows: list[Arrow] = field(default_factory=list)
    # Last runs of the board's operations, as the status poll compares them.
    runs_seen: str = ""
    # Schedules belong to designer.runs (managed on the operation's run settings page).
    schedules: list[Any] = field(default_factory=list)


def _connector(key: str) -> Connector | None:
    try:
        return get_connector(key)
    except (KeyError, ImportError, AttributeError):
        return None


def _endpoint(connection: Connection) -> Endpoint:
    connector = _connector(connection.connector_key)
    activities = list(connection.activities.all())
    groups = []
    if connector is not None:
        for key, kind in connector.activity_types.items():
            groups.append(
                ActivityTypeGroup(kind, [a for a in activities if a.activity_type == key])
            )
    return Endpoint(connection, connector, groups)


def _workflow(project: Project, workflows: list[Workflow], workflow_id: Any) -> Workflow:
    for workflow in workflows:
        if str(workflow.pk) == str(workflow_id):
            return workflow
    if workflows:
        return workflows[0]
    workflow = default_workflow(project)
    workflows.append(workflow)
    return workflow


def runs_fingerprint(operation_ids: list[int], runs: dict[int, Any]) -> str:
    """Changes when any of these operations' last run changes (a new run, a new status)."""
    seen = ",".join(
        f"{pk}:{runs[pk].pk}:{runs[pk].status}" for pk in sorted(operation_ids) if pk in runs
    )
    return hashlib.blake2s(seen.encode(), digest_size=8).hexdigest()


def board_cards(
    project: Project, operations: list[Operation], runs: dict[int, Any], activities: dict
) -> list[OperationCard]:
    """The cards of a workflow's operations, steps included (a fixed number of queries)."""
    prefetch_related_objects(
        operations,
        Prefetch(
            "steps",
            queryset=Step.objects.select_related("activity__connection", "transformation"),
        ),
    )
    cards = []
    for op in operations:
        urls = integrations.operation_urls(project.pk, op.pk)
        cards.append(
            OperationCard(
                operation=op,
                source=activities.get(op.source_id),
                target=activities.get(op.target_id),
                last_run=runs.get(op.pk),
                run_url=urls["run"],
                log_url=urls["log"],
                settings_url=urls["settings"],
                transformation_url=integrations.transformation_url(project.pk, op.transformation_id)
                if op.transformation_id
                else "",
            )
        )
    return cards


def board_arrows(operations: list[Operation]) -> list[Arrow]:
    """Arrows between the operations shown (one pointing into another workflow is not drawn;
    the card's Chains dialog lists it)."""
    shown = {op.pk: op for op in operations}
    arrows = []
    for op in operations:
        for kind, label in CHAIN_KINDS:
            target = shown.get(getattr(op, f"on_{kind}_id"))
            if target is not None:
                arrows.append(Arrow(op, target, kind, label))
    return arrows


def designer_data(project: Project, user: Any = None, workflow_id: Any = None) -> DesignerData:
    connections = list(
        Connection.objects.filter(project=project).prefetch_related(
            Prefetch("activities", queryset=Activity.objects.order_by("name", "id"))
        )
    )
    workflows = list(Workflow.objects.filter(project=project))
    workflow = _workflow(project, workflows, workflow_id)
    operations = list(Operation.objects.filter(project=project).select_related("transformation"))
    transformations = list(Transformation.objects.filter(project=project))
    activities = {}
    for connection in connections:
        for activity in connection.activities.all():
            activity.endpoint_name = connection.name  # for the canvas, without a query per step
            activities[activity.pk] = activity
    runs = integrations.last_runs(project)
    shown = [op for op in operations if op.workflow_id == workflow.pk]
    undo_label, redo_label = undo.labels(project, user)
    return DesignerData(
        connectors=all_connectors(),
        connections=connections,
        operations=operations,
        transformations=transformations,
        endpoints=[_endpoint(c) for c in connections],
        cards=board_cards(project, shown, runs, activities),
        activities=list(activities.values()),
        undo_label=undo_label,
        redo_label=redo_label,
        schedules=integrations.schedules(project),
        workflows=workflows,
        workflow=workflow,
        arrows=board_arrows(shown),
        runs_seen=runs_fingerprint([op.pk for op in shown], runs),
    )


def used_activity_ids(operations: list[Operation]) -> set[int]:
    return {i for op in operations for i in (op.source_id, op.target_id) if i}
