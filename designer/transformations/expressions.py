"""Expressions in mapping rules: Jinja2 expressions in a sandbox, compiled once.

An expression sees the source record's fields as variables (``first_name ~ " " ~
last_name``) and the whole record as ``record`` (``record["E-mail"]`` for awkward names). It
returns a real value - a string, a number, a list - not rendered text. The sandbox refuses
attribute tricks and changes to the record; ``*`` and ``**`` are capped so one rule can't
eat the worker's memory.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_REPEAT = 100_000
MAX_EXPONENT = 1000
_TRUE = {"true", "yes", "y", "1", "t", "on"}
_FALSE = {"false", "no", "n", "0", "f", "off", ""}


def _split(value: Any, sep: str = ",") -> list[str]:
    """ "a, b,,c" -> ["a", "b", "c"]; lists pass through; None -> []."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(sep) if part.strip()]


def _to_int(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return int(str(value).strip())


def _to_float(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return float(str(value).strip())


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true or false")


def _digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value if value is not None else ""))


def _from_json(value: Any) -> Any:
    if value is None or value == "":
        return None
    return json.loads(value) if isinstance(value, str) else value


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value not in (None, ""):
            return value
    return None


class MappingSandbox(ImmutableSandboxedEnvironment):
    # Immutable: an expression can't change the record (record.pop(...)) under other rules.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if sized and count * max(len(seq), 1) > MAX_REPEAT:
                    raise SecurityError("the result would be too large")
            return operator.mul(left, right)
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError("the exponent is too large")
            return operator.pow(left, right)
        return super().call_binop(context, operator_name, left, right)


def _environment() -> MappingSandbox:
    env = MappingSandbox()
    env.filters.update(
        split=_split,
        to_int=_to_int,
        to_float=_to_float,
        to_bool=_to_bool,
        digits=_digits,
        from_json=_from_json,
    )
    env.globals.update(coalesce=_coalesce, split=_split)
    return env


ENV = _environment()


class ExpressionError(Exception):
    pass


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> Callable[[Mapping[str, Any]], Any]:
    """A function record -> value; ExpressionError if the expression can't be parsed."""
    if not source or not source.strip():
        raise ExpressionError("the expression is empty")
    try:
        compiled = ENV.compile_expression(source, undefined_to_none=True)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.message}") from None

    def evaluate(record: Mapping[str, Any]) -> Any:
        return compiled(**names_of(record))

    return evaluate


def names_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The variables an expression sees: identifier-named fields, and ``record``."""
    names = {k: v for k, v in record.items() if isinstance(k, str) and k.isidentifier()}
    names["record"] = record
    return names


@lru_cache(maxsize=256)
def compile_batch(sources: tuple[str, ...]) -> Callable[[Mapping[str, Any]], list[Any]] | None:
    """All of a mapping's expressions as one sandboxed evaluation per record.

    Setting up a Jinja2 context costs more than most expressions, so one list expression is
    evaluated instead of one per rule. Any exception means "evaluate them one by one" to the
    caller, which then knows which rule failed. None if they can't be combined.
    """
    if not sources:
        return None
    combined = "[" + ", ".join(f"({source})" for source in sources) + "]"
    try:
        compiled = ENV.compile_expression(combined, undefined_to_none=False)
    except TemplateSyntaxError:
        return None

    def evaluate(record: Mapping[str, Any]) -> list[Any]:
        values = compiled(**names_of(record))
        return [None if isinstance(v, Undefined) else v for v in values]

    return evaluate


def referenced_names(source: str) -> set[str]:
    """Top-level variables an expression reads (for "unknown field" warnings)."""
    from jinja2 import meta

    try:
        return set(meta.find_undeclared_variables(ENV.parse("{{ " + source + " }}")))
    except TemplateSyntaxError:
        return set()
