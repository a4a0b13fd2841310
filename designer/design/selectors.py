"""Reads for the designer page, each a fixed number of queries however big the project."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from connectors.base import Connector
from connectors.registry import all_connectors
from designer.design.models import Activity, Connection, Operation, Transformation
from designer.projects.models import Project


@dataclass(frozen=True)
class DesignerData:
    connectors: list[Connector]
    connections: list[Connection]
    operations: list[Operation]
    transformations: list[Transformation]


def designer_data(project: Project) -> DesignerData:
    connections = list(
        Connection.objects.filter(project=project).prefetch_related(
            Prefetch("activities", queryset=Activity.objects.order_by("name", "id"))
        )
    )
    operations = list(
        Operation.objects.filter(project=project).select_related(
            "source", "target", "transformation"
        )
    )
    transformations = list(Transformation.objects.filter(project=project))
    return DesignerData(
        connectors=all_connectors(),
        connections=connections,
        operations=operations,
        transformations=transformations,
    )
