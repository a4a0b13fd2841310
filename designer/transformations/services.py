"""Writes and actions of the mapping editor: save (validated, versioned), auto-map, preview."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from django.conf import settings

from connectors.base import ConnectorError, HttpExchange
from designer.design.models import Activity, Transformation
from designer.design.versioning import StaleVersion, versioned_update
from designer.projects.variables import MissingVariable
from designer.projects.variables import resolve as resolve_variables
from designer.transformations import expression_limits
from designer.transformations.automap import auto_map
from designer.transformations.mapping import KINDS, MappingError, compile_mapping
from designer.transformations.schema import resolve, type_of
from designer.transformations.selectors import EditorData, activity_type_of, run_context_for
from designer.transformations.validation import Problem, has_errors, validate_mapping

READ_METHODS = {"GET", "HEAD"}  # what a preview may send


class MappingInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class StaleMapping(Exception):
    def __init__(self, transformation: Transformation) -> None:
        who = transformation.updated_by.get_username() if transformation.updated_by else "someone"
        super().__init__(
            f"{who} saved this transformation since you opened it (now version "
            f"{transformation.version}); reload to see their changes."
        )


def normalise_rules(
    rules: Any, target_schema: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Rules as stored: target, kind, value; constants typed by the target field's type."""
    if not isinstance(rules, list):
        raise MappingInvalid([Problem("mapping", "The mapping must be a list of rules.")])
    out: list[dict[str, Any]] = []
    for rule in rules:
        if not isinstance(rule, Mapping):
            raise MappingInvalid([Problem("mapping", "Each rule must be an object.")])
        target = str(rule.get("target") or "").strip()
        kind = str(rule.get("kind") or "path")
        value = rule.get("value")
        if kind in ("path", "expression"):
            value = str(value if value is not None else "").strip()
        elif kind == "constant" and isinstance(value, str) and target_schema is not None:
            value = _typed_constant(value, target_schema, target)
        out.append({"target": target, "kind": kind, "value": value})
    return out


def _typed_constant(value: str, schema: Mapping[str, Any], target: str) -> Any:
    try:
        node = resolve(schema, target)
    except ValueError:
        return value
    kind = type_of(node or {})
    text = value.strip()
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return value  # left as typed; the target will say what is wrong
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value


def transformation_save_mapping(
    *,
    transformation: Transformation,
    rules: Any,
    version: int,
    data: EditorData,
    user: Any = None,
) -> tuple[int, list[Problem]]:
    """Validate and save; MappingInvalid on errors, StaleMapping if saved meanwhile.

    Returns the new version and the warnings.
    """
    clean = normalise_rules(rules, data.target.schema)
    problems = validate_mapping(
        clean, source_schema=data.source.schema, target_schema=data.target.schema
    )
    if has_errors(problems):
        raise MappingInvalid(problems)
    # versioned_update: the same conditional UPDATE as every component's save, and the audit
    # entry (before and after) that a bare queryset .update() would not write.
    try:
        new_version = versioned_update(
            Transformation,
            pk=transformation.pk,
            expected_version=version,
            user=user,
            mapping=clean,
        )
    except StaleVersion:
        transformation.refresh_from_db()
        raise StaleMapping(transformation) from None
    return new_version, problems


def transformation_auto_map(*, rules: Any, data: EditorData) -> tuple[list[dict], list[str]]:
    clean = normalise_rules(rules)
    return auto_map(clean, data.source.fields, data.target.fields)


@dataclass
class PreviewRow:
    number: int
    input: Any
    output: Any = None
    error: str = ""
    warnings: list[str] = field(default_factory=list)  # the output against the target schema

    @property
    def input_json(self) -> str:
        return json.dumps(self.input, indent=2, ensure_ascii=False, default=str)

    @property
    def output_json(self) -> str:
        return json.dumps(self.output, indent=2, ensure_ascii=False, default=str)


@dataclass
class Preview:
    rows: list[PreviewRow]
    error: str = ""  # the source could not be read at all


def transformation_preview(*, rules: Any, data: EditorData, limit: int | None = None) -> Preview:
    """The mapping applied to the source's first records; nothing is written anywhere."""
    limit = limit or settings.MAPPING_PREVIEW_RECORDS
    activity = data.source.activity
    kind = activity_type_of(activity) if activity is not None else None
    if activity is None or kind is None:
        return Preview([], "The operation has no source to preview from.")
    if str(kind.role) != "source":  # a response mapping: only a run that writes makes them
        return Preview(
            [],
            "This mapping works on a target's response, which only a run produces: run the "
            "operation with debug logging on to see samples of each step's records.",
        )
    clean = normalise_rules(rules, data.target.schema)
    mapping = compile_mapping(clean)
    records, problem = read_for_preview(activity, limit)
    if problem:
        return Preview([], problem)
    checker = _checker(data.target.schema)
    rows: list[PreviewRow] = []
    # One deadline for the whole preview: this runs in a web thread other users share.
    with expression_limits.bounded(settings.MAPPING_PREVIEW_TIME_LIMIT):
        for number, record in enumerate(records, start=1):
            try:
                output = mapping.apply(record)
            except MappingError as exc:
                rows.append(PreviewRow(number, record, error=str(exc)))
                continue
            warnings = _schema_warnings(checker, output)
            rows.append(PreviewRow(number, record, output, warnings=warnings))
    return Preview(rows)


class _WriteCall(Exception):
    def __init__(self, exchange: HttpExchange) -> None:
        super().__init__(exchange.method)
        self.exchange = exchange


def read_for_preview(activity: Activity, limit: int | None = None) -> tuple[list[Any], str]:
    """A source's first records for a preview (this editor's and a step's, runs/preview.py):
    (records, problem). As a run reads them (project variables resolved) but with read-only
    calls only: a preview must leave nothing behind, so the first call that would do more (a
    Constant Contact export's POST) is refused before it is sent and ends the read."""
    limit = limit or settings.MAPPING_PREVIEW_RECORDS
    kind = activity_type_of(activity)
    if kind is None:
        return [], "This source's connector is not installed."
    try:
        config = resolve_variables(activity.project, activity.config)
    except MissingVariable as exc:
        return [], str(exc)
    context = run_context_for(activity)

    def read_only(exchange: HttpExchange) -> None:
        if exchange.method.upper() not in READ_METHODS:
            raise _WriteCall(exchange)

    context.on_http = read_only  # after the fact, for connectors that don't check the flag
    context.read_only = True  # connectors refuse a write before it is sent
    records: list[Any] = []
    try:
        batches = kind.read(context, config)
        try:
            for batch in batches:
                records.extend(itertools.islice(batch, limit - len(records)))
                if len(records) >= limit:
                    break
        finally:
            close = getattr(batches, "close", None)
            if close:
                close()
    except _WriteCall as call:
        return [], (
            f"Preview stopped: reading this source needs a call that is not read-only "
            f"({call.exchange.method}); run the operation to see its records."
        )
    except ConnectorError as exc:
        if exc.key == "read_only":
            return [], f"Preview stopped: {exc.message} Run the operation to see its records."
        if not records:
            return [], f"The source could not be read: {exc.message}"
    return records, ""


def _checker(schema: Mapping[str, Any] | None):
    if not schema or not schema.get("properties"):
        return None
    try:
        return jsonschema.Draft4Validator(schema)
    except jsonschema.SchemaError:
        return None


def _schema_warnings(checker, output: Mapping[str, Any]) -> list[str]:
    if checker is None:
        return []
    found = []
    for error in itertools.islice(checker.iter_errors(dict(output)), 5):
        where = ".".join(str(p) for p in error.absolute_path)
        found.append(f"{where}: {error.message}" if where else error.message)
    return found


def kinds() -> Sequence[str]:
    return KINDS
