"""Field mapping: turn a source record into a target record by a list of rules.

A rule is {"target": "email_address.address", "kind": "path" | "constant" | "expression",
"value": ...}:

* ``path``: a source field, dotted for nested ones (a flat key that itself contains dots,
  as in a CSV column "email_address.address", is found too).
* ``constant``: a fixed value.
* ``expression``: a sandboxed Jinja2 expression over the record (see ``expressions``).

Targets are dotted paths; a digit is a list index (``phone_numbers.0.phone_number``) and
``name[key=value]`` picks or adds the list item with that key
(``custom_fields[custom_field_id=ID].value``). Empty values (None, "", []) leave the target
unset, and constants are applied last and never create a list item by themselves, so
``phone_numbers.0.kind = "home"`` only appears beside an actual phone number.

The engine calls ``compile_mapping(rules).apply(record)`` and fails the record on
MappingError; compiling is cached, so calling it per batch costs nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2.exceptions import SecurityError, TemplateError

from connectors.base import read_error
from designer.transformations.expressions import (
    ExpressionError,
    compile_batch,
    compile_expression,
)
from designer.transformations.schema import parse_path

KINDS = ("path", "constant", "expression")
EMPTY = (None, "", [])


class MappingError(Exception):
    """A rule failed for one record; the engine fails that record, not the run."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(f"{target}: {message}")
        self.target = target
        self.message = message


_MISSING = object()


def get_path(record: Mapping[str, Any], path: str) -> Any:
    if path in record:  # a flat key with dots in it ("email_address.address" from a CSV)
        return record[path]
    value: Any = record
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


Steps = tuple[tuple[str, Any], ...]


def _container_for(step: tuple[str, Any]) -> type:
    return list if step[0] in ("index", "match") else dict


def set_steps(out: dict[str, Any], steps: Steps, value: Any, *, create_items: bool) -> bool:
    """Put ``value`` at ``steps`` in ``out``; False if a list item was needed but not allowed."""
    node: Any = out
    for position, (kind, arg) in enumerate(steps):
        last = position == len(steps) - 1
        wanted = None if last else _container_for(steps[position + 1])
        if kind == "key":
            if not isinstance(node, dict):
                return False
            if last:
                node[arg] = value
                return True
            child = node.get(arg)
            if not isinstance(child, wanted):
                if wanted is list and not create_items:
                    return False
                child = node[arg] = wanted()
            node = child
        elif kind == "index":
            if not isinstance(node, list):
                return False
            if arg >= len(node) or node[arg] is None:
                if not create_items:
                    return False
                node.extend([None] * (arg + 1 - len(node)))
            if last:
                node[arg] = value
                return True
            if not isinstance(node[arg], wanted):
                node[arg] = wanted()
            node = node[arg]
        else:  # match: the list item whose ``key`` equals ``value``
            if not isinstance(node, list):
                return False
            key, expected = arg
            item = next(
                (i for i in node if isinstance(i, dict) and str(i.get(key)) == expected), None
            )
            if item is None:
                if not create_items:
                    return False
                item = {key: expected}
                node.append(item)
            if last:
                item.clear()
                item.update(value if isinstance(value, Mapping) else {key: expected})
                return True
            node = item
    return True


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    set_steps(record, tuple(parse_path(path)), value, create_items=True)


def _compact(value: Any) -> Any:
    """Drop the holes that index targets leave (phone_numbers.1 mapped, .0 not)."""
    if isinstance(value, list):
        return [_compact(v) for v in value if v is not None]
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list | dict):
                value[key] = _compact(item)
    return value


@dataclass(frozen=True)
class CompiledRule:
    target: str
    steps: Steps
    kind: str
    get: Callable[[Mapping[str, Any]], Any]
    has_index: bool
    source: str = ""  # a valid expression's text, for the combined evaluation


def _rule_failure(target: str, message: str) -> Callable[[Mapping[str, Any]], Any]:
    def fail(record: Mapping[str, Any]) -> Any:
        raise MappingError(target, message)

    return fail


def _compile_rule(rule: Mapping[str, Any]) -> CompiledRule:
    target = str(rule.get("target") or "")
    kind = rule.get("kind", "path")
    value = rule.get("value")
    try:
        steps = tuple(parse_path(target))
    except ValueError as exc:
        steps = (("key", target or "?"),)
        get = _rule_failure(target or "(no target)", f"invalid target path: {exc}")
        return CompiledRule(target, steps, kind, get, False)
    has_index = any(kind_ != "key" for kind_, _ in steps)
    if kind == "constant":
        get = lambda record, _value=value: _value  # noqa: E731
    elif kind == "path":
        source = str(value or "")
        if not source:
            get = _rule_failure(target, "no source field is mapped")
        else:
            get = lambda record, _source=source: get_path(record, _source)  # noqa: E731
    elif kind == "expression":
        try:
            evaluate = compile_expression(str(value or ""))
        except ExpressionError as exc:
            get = _rule_failure(target, str(exc))
        else:
            get = _guarded(target, evaluate)
            return CompiledRule(target, steps, kind, get, has_index, str(value).strip())
    else:
        get = _rule_failure(target, f"unknown rule kind {kind!r}")
    return CompiledRule(target, steps, kind, get, has_index)


def _guarded(target: str, evaluate: Callable[[Mapping[str, Any]], Any]):
    def run(record: Mapping[str, Any]) -> Any:
        try:
            return evaluate(record)
        except MappingError:
            raise
        except SecurityError as exc:
            raise MappingError(target, f"not allowed: {exc}") from None
        except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
            raise MappingError(target, f"{type(exc).__name__}: {exc}") from None
        except RecursionError:
            raise MappingError(target, "not allowed: the expression is nested too deeply") from None
        except MemoryError:
            raise MappingError(target, "not allowed: it needs too much memory") from None
        except Exception as exc:  # any other failure of a user's expression fails the record
            raise MappingError(target, f"{type(exc).__name__}: {exc}") from None

    return run


@dataclass(frozen=True)
class CompiledMapping:
    rules: tuple[Mapping[str, Any], ...]
    _compiled: tuple[CompiledRule, ...] = field(default=(), repr=False)
    # Every valid expression evaluated at once (see expressions.compile_batch), and for each
    # compiled rule its position in that batch's result (-1: not part of it).
    _batch: Callable[[Mapping[str, Any]], list[Any]] | None = field(default=None, repr=False)
    _slots: tuple[int, ...] = field(default=(), repr=False)
    # Only a target index above 0 can leave a hole (None) in a list to compact away.
    _may_leave_holes: bool = field(default=False, repr=False)

    def _expression_values(self, record: Mapping[str, Any]) -> list[Any] | None:
        if self._batch is None:
            return None
        try:
            return self._batch(record)
        except Exception:
            return None  # evaluate rule by rule, so the failing one is named

    def apply(self, record: Mapping[str, Any]) -> dict[str, Any]:
        problem = read_error(record)
        if problem:  # a record the source could not read (see connectors.base.RECORD_ERROR)
            raise MappingError("record", problem)
        if not self._compiled:  # no transformation: records pass through unchanged
            return dict(record)
        out: dict[str, Any] = {}
        holes = False
        batch = self._expression_values(record)
        for rule, slot in zip(self._compiled, self._slots, strict=True):
            value = batch[slot] if batch is not None and slot >= 0 else rule.get(record)
            if value is _MISSING or value in EMPTY:
                continue
            if type(value) in (dict, list):
                # A copy: later rules may write inside it, and it may be the source record's
                # own object or a constant shared by every record.
                value = copy.deepcopy(value)
            if not rule.has_index:
                if len(rule.steps) == 1:
                    out[rule.target] = value
                else:
                    set_steps(out, rule.steps, value, create_items=True)
            elif rule.kind == "constant":
                # Constants go last (see ordering below) and never create a list item alone.
                set_steps(out, rule.steps, value, create_items=False)
            else:
                set_steps(out, rule.steps, value, create_items=True)
                holes = True
        return _compact(out) if holes and self._may_leave_holes else out


def _ordered(rules: Sequence[Mapping[str, Any]]) -> tuple[CompiledRule, ...]:
    compiled = [_compile_rule(rule) for rule in rules]
    # Constants inside lists are applied after the values they sit beside.
    return tuple(sorted(compiled, key=lambda r: 1 if (r.kind == "constant" and r.has_index) else 0))


def _build(rules: tuple[Mapping[str, Any], ...]) -> CompiledMapping:
    compiled = _ordered(rules)
    sources: list[str] = []
    slots: list[int] = []
    for rule in compiled:
        if rule.kind == "expression" and rule.source:
            slots.append(len(sources))
            sources.append(rule.source)
        else:
            slots.append(-1)
    batch = compile_batch(tuple(sources)) if len(sources) > 1 else None
    if batch is None:
        slots = [-1] * len(compiled)
    holes = any(kind == "index" and arg > 0 for rule in compiled for kind, arg in rule.steps)
    return CompiledMapping(rules, compiled, batch, tuple(slots), holes)


@lru_cache(maxsize=256)
def _compile_cached(key: str) -> CompiledMapping:
    return _build(tuple(json.loads(key)))


def compile_mapping(rules: Sequence[Mapping[str, Any]] | None) -> CompiledMapping:
    if not rules:
        return CompiledMapping(())
    try:
        key = json.dumps(list(rules), sort_keys=True, default=str)
    except (TypeError, ValueError):
        return _build(tuple(rules))
    return _compile_cached(key)
