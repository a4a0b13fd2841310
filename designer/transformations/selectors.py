"""Reads for the mapping editor: where a transformation sits and the schemas on each side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ActivityType, ConnectorError, RunContext
from designer.design.connection_context import DbConnection
from designer.design.integrations import connection_extras
from designer.design.models import Activity, Operation, Step, StepKind, Transformation
from designer.transformations.schema import SchemaField, fields


@dataclass
class Side:
    activity: Activity | None = None
    schema: dict[str, Any] | None = None
    fields: list[SchemaField] = field(default_factory=list)
    note: str = ""  # why the schema is missing or where it came from

    @property
    def label(self) -> str:
        if self.activity is None:
            return ""
        return f"{self.activity.connection.name} · {self.activity.name}"


@dataclass
class EditorData:
    transformation: Transformation
    operation: Operation | None
    source: Side
    target: Side


def activity_type_of(activity: Activity) -> ActivityType | None:
    try:
        return activity.type
    except KeyError:
        return None


def run_context_for(activity: Activity) -> RunContext:
    connection = activity.connection
    return RunContext(
        connection=DbConnection(connection, extras=connection_extras(connection)),
        state=dict(activity.state or {}),
        run_id="preview",
    )


def _source_side(activity: Activity | None) -> Side:
    if activity is None:
        return Side(note="The operation has no source activity yet.")
    kind = activity_type_of(activity)
    if kind is None:
        return Side(activity, note="This source's connector is not installed.")
    try:
        schema = kind.response_schema(activity.config) or None
    except (ConnectorError, KeyError, TypeError, ValueError) as exc:
        return Side(activity, note=f"The source schema could not be built: {exc}")
    note = ""
    sample = getattr(kind, "sample_schema", None)
    if schema is not None and not schema.get("properties") and callable(sample):
        # e.g. a Files read without configured columns: look at the file itself.
        try:
            schema = sample(run_context_for(activity), activity.config)
            note = "Inferred from the file; set Columns on the activity to change it."
        except ConnectorError as exc:
            note = f"The schema could not be inferred: {exc.message}"
    return Side(activity, schema, fields(schema), note)


def _target_side(activity: Activity | None) -> Side:
    if activity is None:
        return Side(note="The operation has no target activity yet.")
    kind = activity_type_of(activity)
    if kind is None:
        return Side(activity, note="This target's connector is not installed.")
    try:
        schema = kind.request_schema(activity.config) or None
    except (ConnectorError, KeyError, TypeError, ValueError) as exc:
        return Side(activity, note=f"The target schema could not be built: {exc}")
    note = ""
    if schema is not None and not schema.get("properties"):
        note = "Any field is accepted: add target fields by name."
    return Side(activity, schema, fields(schema), note)


# What a target's response path carries on for each record (designer.runs.chain.response_of).
RESULT_FIELDS: dict[str, Any] = {
    "ok": {"type": "boolean", "description": "Whether the target took the record"},
    "id": {"type": "string", "description": "The id the target gave or found"},
    "action": {"type": "string", "description": "What the target did (created, updated...)"},
    "error_key": {"type": "string", "description": "Why it failed, as a key"},
    "error_message": {"type": "string", "description": "Why it failed"},
}


def _answer_schema(activity: Activity) -> dict[str, Any] | None:
    """A target's per-record response schema (its response_schema()), if it declares one."""
    kind = activity_type_of(activity)
    if kind is None or not kind.responds_per_record:
        return None
    try:
        return kind.response_schema(activity.config)
    except (ConnectorError, KeyError, TypeError, ValueError):
        return None


def _response_side(activity: Activity | None, pass_on: str) -> Side:
    """After a target: its response (each record's result), or the records it took."""
    taken = _target_side(activity)
    if activity is None or (taken.schema is None and pass_on == "input"):
        return Side(activity, note=taken.note)
    if pass_on == "input":
        return Side(activity, taken.schema, taken.fields, "The records this target took.")
    properties: dict[str, Any] = {"record": taken.schema or {"type": "object"}, **RESULT_FIELDS}
    answered = _answer_schema(activity)
    if answered is not None:  # a target that reads something per record (RecordResult.response)
        properties["response"] = answered
    schema = {"type": "object", "properties": properties}
    return Side(
        activity,
        schema,
        fields(schema),
        "The target's response: each record's result, and the record it was sent.",
    )


def _chain_of(step: Step) -> list[Step]:
    siblings = Step.objects.filter(
        operation_id=step.operation_id, parent_id=step.parent_id, branch=step.branch
    ).select_related("activity__connection", "parent")
    return sorted(siblings, key=lambda s: (s.position, s.pk))


def _before(step: Step) -> Side:
    """The records reaching ``step``: from the nearest source or target before it (scripts and
    conditions pass records on as they are; a branch starts with its condition's records)."""
    while True:
        chain = _chain_of(step)
        earlier = [s for s in chain if (s.position, s.pk) < (step.position, step.pk)]
        for previous in reversed(earlier):
            if previous.kind == StepKind.SOURCE:
                return _source_side(previous.activity)
            if previous.kind == StepKind.TARGET:
                return _response_side(
                    previous.activity, (previous.config or {}).get("pass_on", "response")
                )
            if previous.kind == StepKind.TRANSFORMATION:
                return Side(note="Another transformation comes first: its target fields arrive.")
        if step.parent_id is None:
            return Side(note="Nothing before this transformation gives records yet.")
        step = step.parent


def _after(step: Step) -> Side:
    """Where the mapped records go: the nearest target after ``step`` in its chain."""
    for following in _chain_of(step):
        if (following.position, following.pk) <= (step.position, step.pk):
            continue
        if following.kind == StepKind.TARGET:
            return _target_side(following.activity)
        if following.kind in (StepKind.TRANSFORMATION, StepKind.CONDITION, StepKind.INVOKE):
            break
    return Side(note="There is no target after this transformation yet: add one to map to it.")


def editor_data(transformation: Transformation) -> EditorData:
    """Where the mapping sits: the steps around it (issue 11); no step uses it: nowhere."""
    step = (
        Step.objects.filter(transformation=transformation, kind=StepKind.TRANSFORMATION)
        .select_related("operation", "parent")
        .order_by("pk")
        .first()
    )
    if step is not None:
        return EditorData(transformation, step.operation, _before(step), _after(step))
    return EditorData(transformation, None, _source_side(None), _target_side(None))


def rules_of(transformation: Transformation) -> list[Mapping[str, Any]]:
    return [r for r in (transformation.mapping or []) if isinstance(r, Mapping)]
