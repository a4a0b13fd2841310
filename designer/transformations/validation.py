"""Checking a mapping against the source and target schemas, with messages naming the field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from designer.transformations.expressions import (
    ExpressionError,
    compile_expression,
    referenced_names,
)
from designer.transformations.mapping import KINDS
from designer.transformations.schema import _object_parts, is_open, parse_path, resolve, type_of

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    target: str
    message: str
    level: str = ERROR

    def as_dict(self) -> dict[str, str]:
        return {"target": self.target, "message": self.message, "level": self.level}


def validate_mapping(
    rules: Sequence[Mapping[str, Any]],
    *,
    source_schema: Mapping[str, Any] | None,
    target_schema: Mapping[str, Any] | None,
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    source_names = _source_names(source_schema)
    for index, rule in enumerate(rules, start=1):
        if not isinstance(rule, Mapping):
            problems.append(Problem(f"rule {index}", "A rule must be an object."))
            continue
        target = str(rule.get("target") or "").strip()
        kind = rule.get("kind", "path")
        value = rule.get("value")
        if not target:
            problems.append(Problem(f"rule {index}", "The rule has no target field."))
            continue
        if target in seen:
            problems.append(Problem(target, f"“{target}” is mapped more than once."))
        seen.add(target)
        try:
            parse_path(target)
        except ValueError as exc:
            problems.append(Problem(target, f"“{target}” is not a valid target path: {exc}."))
            continue
        if target_schema is not None and resolve(target_schema, target) is None:
            problems.append(Problem(target, f"“{target}” is not a field of the target schema."))
        if kind not in KINDS:
            problems.append(Problem(target, f"“{target}”: unknown kind {kind!r}."))
        elif kind == "path":
            source = str(value or "").strip()
            if not source:
                problems.append(Problem(target, f"“{target}” has no source field."))
            elif source_names is not None and not _source_known(source, source_schema):
                problems.append(Problem(target, f"“{target}”: the source has no field “{source}”."))
        elif kind == "expression":
            try:
                compile_expression(str(value or ""))
            except ExpressionError as exc:
                problems.append(Problem(target, f"“{target}”: {exc}."))
            else:
                if source_names is not None:
                    unknown = referenced_names(str(value)) - source_names - {"record"}
                    unknown -= {"coalesce", "split", "range", "dict", "lipsum", "cycler"}
                    for name in sorted(unknown):
                        problems.append(
                            Problem(
                                target,
                                f"“{target}”: the expression uses “{name}”, which is not a "
                                "source field (it will be empty).",
                                WARNING,
                            )
                        )
    problems.extend(_unmapped_required(rules, target_schema))
    return problems


def _source_names(schema: Mapping[str, Any] | None) -> set[str] | None:
    if schema is None or is_open(schema):
        return None
    props, _ = _object_parts(schema)
    return set(props)


def _source_known(path: str, schema: Mapping[str, Any] | None) -> bool:
    if schema is None:
        return True
    props, _ = _object_parts(schema)
    if path in props:  # a flat name with dots in it
        return True
    try:
        return resolve(schema, path) is not None
    except ValueError:
        return False


def _unmapped_required(
    rules: Sequence[Mapping[str, Any]], schema: Mapping[str, Any] | None
) -> list[Problem]:
    if not schema or is_open(schema):
        return []
    targets = [str(r.get("target") or "") for r in rules if isinstance(r, Mapping)]
    normal = [path for t in targets for path in _generic(t)]

    def mapped(path: str) -> bool:
        return any(t == path or t.startswith(path + ".") for t in normal)

    problems: list[Problem] = []

    def walk(node: Mapping[str, Any], prefix: str, in_force: bool) -> None:
        props, required = _object_parts(node)
        for name, sub in props.items():
            sub = sub or {}
            path = f"{prefix}{name}"
            kind = type_of(sub)
            needed = name in required and in_force
            if kind == "object" and sub.get("properties"):
                if path in normal:  # the whole object is mapped from one source field
                    continue
                if needed or mapped(path):
                    walk(sub, path + ".", True)
            elif kind == "array" and type_of(sub.get("items") or {}) == "object":
                if needed and not mapped(path):
                    problems.append(_required(path))
                elif mapped(path + ".0"):
                    walk(sub["items"], path + ".0.", True)
            elif needed and not mapped(path):
                problems.append(_required(path))

    walk(schema, "", True)
    return problems


def _required(path: str) -> Problem:
    return Problem(path, f"Required field “{path}” is not mapped.")


def _generic(target: str) -> list[str]:
    """Item paths as the schema tree shows them: any index or [key=value] becomes ".0";
    a [key=value] also fills that key of the item."""
    try:
        steps = parse_path(target)
    except ValueError:
        return [target]
    parts: list[str] = []
    implied: list[str] = []
    for kind, arg in steps:
        parts.append(arg if kind == "key" else "0")
        if kind == "match":
            implied.append(".".join([*parts, arg[0]]))
    return [".".join(parts), *implied]


def has_errors(problems: Sequence[Problem]) -> bool:
    return any(p.level == ERROR for p in problems)
