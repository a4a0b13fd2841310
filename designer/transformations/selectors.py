"""Reads for the mapping editor: where a transformation sits and the schemas on each side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ActivityType, ConnectorError, RunContext
from designer.design.connection_context import DbConnection
from designer.design.integrations import connection_extras
from designer.design.models import Activity, Operation, Transformation
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


def editor_data(transformation: Transformation) -> EditorData:
    operation = (
        Operation.objects.filter(transformation=transformation)
        .select_related("source__connection", "target__connection")
        .order_by("pk")
        .first()
    )
    source = operation.source if operation else None
    target = operation.target if operation else None
    return EditorData(transformation, operation, _source_side(source), _target_side(target))


def rules_of(transformation: Transformation) -> list[Mapping[str, Any]]:
    return [r for r in (transformation.mapping or []) if isinstance(r, Mapping)]
