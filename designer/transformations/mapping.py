"""Field mapping: turn a source record into a target record by a list of rules.

A rule is {"target": "email_address.address", "kind": "path" | "constant", "value": ...};
dotted paths reach into nested objects on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class MappingError(Exception):
    """A rule failed for one record; the engine fails that record, not the run."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(f"{target}: {message}")
        self.target = target
        self.message = message


_MISSING = object()


def get_path(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = record
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


@dataclass(frozen=True)
class CompiledMapping:
    rules: tuple[Mapping[str, Any], ...]

    def apply(self, record: Mapping[str, Any]) -> dict[str, Any]:
        if not self.rules:  # no transformation: records pass through unchanged
            return dict(record)
        out: dict[str, Any] = {}
        for rule in self.rules:
            target, kind, value = rule["target"], rule.get("kind", "path"), rule.get("value")
            if kind == "constant":
                set_path(out, target, value)
            elif kind == "path":
                found = get_path(record, str(value))
                if found is not _MISSING:
                    set_path(out, target, found)
            else:
                raise MappingError(target, f"unknown rule kind {kind!r}")
        return out


def compile_mapping(rules: Sequence[Mapping[str, Any]] | None) -> CompiledMapping:
    return CompiledMapping(tuple(rules or ()))
