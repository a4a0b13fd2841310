"""Reads for the designer page, each a fixed number of queries however big the project."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from connectors.base import ActivityType, Connector
from connectors.registry import all_connectors, get_connector
from designer.design import integrations
from designer.design.models import Activity, CanvasChange, Connection, Operation, Transformation
from designer.projects.models import Project


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
class DesignerData:
    connectors: list[Connector]
    connections: list[Connection]
    operations: list[Operation]
    transformations: list[Transformation]
    endpoints: list[Endpoint] = field(default_factory=list)
    cards: list[OperationCard] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    undo_label: str = ""
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


def designer_data(project: Project, user: Any = None) -> DesignerData:
    connections = list(
        Connection.objects.filter(project=project).prefetch_related(
            Prefetch("activities", queryset=Activity.objects.order_by("name", "id"))
        )
    )
    operations = list(Operation.objects.filter(project=project).select_related("transformation"))
    transformations = list(Transformation.objects.filter(project=project))
    activities = {}
    for connection in connections:
        for activity in connection.activities.all():
            activity.endpoint_name = connection.name  # for the canvas, without a query per step
            activities[activity.pk] = activity
    runs = integrations.last_runs(project)
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
    undo_label = ""
    if user is not None and user.is_authenticated:
        undo_label = (
            CanvasChange.objects.filter(project=project, user=user)
            .order_by("-id")
            .values_list("label", flat=True)
            .first()
            or ""
        )
    return DesignerData(
        connectors=all_connectors(),
        connections=connections,
        operations=operations,
        transformations=transformations,
        endpoints=[_endpoint(c) for c in connections],
        cards=cards,
        activities=list(activities.values()),
        undo_label=undo_label,
        schedules=integrations.schedules(project),
    )


def used_activity_ids(operations: list[Operation]) -> set[int]:
    return {i for op in operations for i in (op.source_id, op.target_id) if i}
