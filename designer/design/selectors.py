"""Reads for the designer page, each a fixed number of queries however big the project."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
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

# An id no row has, to reverse a URL once and fill in each card's id.
_ANY_ID = 987654321987
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
    last_run: Any = None
    run_url: str = ""
    log_url: str = ""
    settings_url: str = ""


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
    project: Project, operations: list[Operation], runs: dict[int, Any]
) -> list[OperationCard]:
    """The cards of a workflow's operations (their steps are fetched only for the cards the
    cache doesn't have: see ``prefetch_steps`` and designer.design.board_cache)."""
    # Each card links to its run, log and settings: reversed once, not three times a card.
    patterns = {
        key: url.replace(str(_ANY_ID), "{}")
        for key, url in integrations.operation_urls(project.pk, _ANY_ID).items()
    }
    cards = []
    for op in operations:
        urls = {key: pattern.format(op.pk) for key, pattern in patterns.items()}
        cards.append(
            OperationCard(
                operation=op,
                last_run=runs.get(op.pk),
                run_url=urls["run"],
                log_url=urls["log"],
                settings_url=urls["settings"],
            )
        )
    return cards


def prefetch_steps(operations: list[Operation]) -> None:
    """The steps of these operations, with what they show, in one query."""
    prefetch_related_objects(
        operations,
        Prefetch(
            "steps",
            queryset=Step.objects.select_related("activity__connection", "transformation"),
        ),
    )


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


def design_stamp(*groups: list[Any]) -> str:
    """A fingerprint of the names a step can show (not versions: a move changes no name)."""
    seen = "|".join(",".join(f"{c.pk}:{c.name}" for c in group) for group in groups)
    return hashlib.blake2s(seen.encode(), digest_size=8).hexdigest()


class DesignerData:
    """What the designer page shows, each part read when a template first asks for it: the
    palette, the board and the Components pane each cost their own few queries (a fixed
    number, whatever the project's size), and a pane pays only for its own."""

    def __init__(self, project: Project, user: Any = None, workflow_id: Any = None) -> None:
        self.project = project
        self.user = user
        self.workflow_id = workflow_id

    # The palette -----------------------------------------------------------------------------
    @cached_property
    def connectors(self) -> list[Connector]:
        return all_connectors()

    @cached_property
    def _usable_connections(self) -> list[Connection]:
        """The project's connections and the global endpoints shared with it (issue 12), in
        one query, each with only this project's activities; secrets are not read."""
        return list(
            Connection.objects.usable_by(self.project)
            .defer("secrets_encrypted")
            .prefetch_related(
                Prefetch(
                    "activities",
                    queryset=Activity.objects.filter(project=self.project).order_by("name", "id"),
                )
            )
        )

    @cached_property
    def connections(self) -> list[Connection]:
        return [c for c in self._usable_connections if not c.is_global]

    @cached_property
    def endpoints(self) -> list[Endpoint]:
        return [_endpoint(c) for c in self.connections]

    @cached_property
    def global_connections(self) -> list[Connection]:
        return [c for c in self._usable_connections if c.is_global]

    @cached_property
    def global_endpoints(self) -> list[Endpoint]:
        return [_endpoint(c) for c in self.global_connections]

    @cached_property
    def activities_by_id(self) -> dict[int, Activity]:
        activities = {}
        for connection in [*self.connections, *self.global_connections]:
            for activity in connection.activities.all():
                activity.endpoint_name = connection.name  # for the canvas, without a query
                activities[activity.pk] = activity
        return activities

    @cached_property
    def activities(self) -> list[Activity]:
        return list(self.activities_by_id.values())

    # The Components pane ---------------------------------------------------------------------
    @cached_property
    def operations(self) -> list[Operation]:
        # What the page shows of them: not the run settings.
        return list(
            Operation.objects.filter(project=self.project).defer(
                "created_at", "debug_until", "timeout_seconds", "on_agent_lost"
            )
        )

    @cached_property
    def transformations(self) -> list[Transformation]:
        # Names only: the mappings are their editor's.
        return list(
            Transformation.objects.filter(project=self.project).defer("mapping", "created_at")
        )

    @cached_property
    def schedules(self) -> list[Any]:
        # Schedules belong to designer.runs (managed on the operation's run settings page).
        return integrations.schedules(self.project)

    # The board -------------------------------------------------------------------------------
    @cached_property
    def workflows(self) -> list[Workflow]:
        return list(Workflow.objects.filter(project=self.project))

    @cached_property
    def workflow(self) -> Workflow:
        """The workflow shown (a tab at a time)."""
        return _workflow(self.project, self.workflows, self.workflow_id)

    @cached_property
    def shown(self) -> list[Operation]:
        return [op for op in self.operations if op.workflow_id == self.workflow.pk]

    @cached_property
    def runs(self) -> dict[int, Any]:
        return integrations.last_runs(self.project)

    @cached_property
    def cards(self) -> list[OperationCard]:
        return board_cards(self.project, self.shown, self.runs)

    @cached_property
    def arrows(self) -> list[Arrow]:
        return board_arrows(self.shown)

    @cached_property
    def runs_seen(self) -> str:
        """The last runs of the board's operations, as the status poll compares them."""
        return runs_fingerprint([op.pk for op in self.shown], self.runs)

    @cached_property
    def design_stamp(self) -> str:
        """Changes when a name a card may show changes (see designer.design.board_cache)."""
        return design_stamp(
            [*self.connections, *self.global_connections],
            self.activities,
            self.transformations,
            self.operations,
        )

    @cached_property
    def used_ids(self) -> set[int]:
        """Activities some step uses, in any workflow (the palette marks them "in use")."""
        return set(
            Step.objects.filter(operation__project=self.project, activity__isnull=False)
            .values_list("activity_id", flat=True)
            .distinct()
        )

    @cached_property
    def _labels(self) -> tuple[str, str]:
        return undo.labels(self.project, self.user)

    @property
    def undo_label(self) -> str:
        return self._labels[0]

    @property
    def redo_label(self) -> str:
        return self._labels[1]


def designer_data(project: Project, user: Any = None, workflow_id: Any = None) -> DesignerData:
    return DesignerData(project, user, workflow_id)
