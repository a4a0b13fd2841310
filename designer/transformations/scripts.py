"""Script steps: a few lines of sandboxed expressions run on each record (issue 11).

One statement a line (``#`` starts a comment)::

    email = email | trim | lower          # set (or add) a field; a dotted path sets inside
    address.city = record["Town"]
    skip if not email                      # drop the record here (it goes no further)
    keep if country == "NL"                # drop every record this is false for
    $last_seen = email                     # set the project variable "last_seen"
    del internal_id                        # remove a field

Every expression is one of the mapping's sandboxed expressions (``expressions``), with the
same time and size bounds per evaluation; a script has at most ``MAX_STATEMENTS`` lines, so
one record costs at most that many bounded evaluations. Statements run top to bottom and
see the fields as the lines above left them. Scripts can't create records.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2.sandbox import SecurityError

from designer.transformations.expressions import ExpressionError, compile_expression
from designer.transformations.mapping import set_path

MAX_STATEMENTS = 200
MAX_SCRIPT_CHARS = 20_000
_PATH = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_.]*)\s*=(?!=)\s*(.+)$")
_ASSIGN = re.compile(rf"^({_PATH})\s*=(?!=)\s*(.+)$")
_FILTER = re.compile(r"^(skip|keep)\s+if\s+(.+)$")
_DELETE = re.compile(rf"^del\s+({_PATH})$")


class ScriptError(Exception):
    """The script can't be compiled (line number and reason) or failed on a record."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        self.message = f"line {line}: {message}" if line else message
        super().__init__(self.message)


@dataclass(frozen=True)
class _Statement:
    line: int
    kind: str  # set | variable | skip | keep | del
    target: str
    evaluate: Callable[[Mapping[str, Any]], Any] | None


@dataclass
class ScriptResult:
    record: dict[str, Any] | None  # None: the record was dropped
    variables: dict[str, Any] = field(default_factory=dict)  # project variables it set


@dataclass(frozen=True)
class CompiledScript:
    statements: tuple[_Statement, ...]

    def run(self, record: Mapping[str, Any]) -> ScriptResult:
        """Run the script on a copy of ``record``; ScriptError names the failing line."""
        current: dict[str, Any] = copy.deepcopy(dict(record))
        variables: dict[str, Any] = {}
        for statement in self.statements:
            try:
                value = statement.evaluate(current) if statement.evaluate else None
            except (Exception, RecursionError, MemoryError) as exc:  # refusals, limits too
                raise ScriptError(_reason(exc), line=statement.line) from None
            if statement.kind == "skip" and value:
                return ScriptResult(None, variables)
            if statement.kind == "keep" and not value:
                return ScriptResult(None, variables)
            if statement.kind == "set":
                if "." in statement.target:
                    set_path(current, statement.target, value)
                else:
                    current[statement.target] = value
            elif statement.kind == "del":
                _delete(current, statement.target)
            elif statement.kind == "variable":
                variables[statement.target] = value
        return ScriptResult(current, variables)


def _reason(exc: BaseException) -> str:
    """The same wording as a mapping rule's failure (mapping._guarded)."""
    if isinstance(exc, SecurityError):
        text = f"not allowed: {exc}"
    elif isinstance(exc, RecursionError):
        text = "not allowed: the expression is nested too deeply"
    elif isinstance(exc, MemoryError):
        text = "not allowed: it needs too much memory"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:500]


def _delete(record: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node: Any = record
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


@lru_cache(maxsize=256)
def compile_script(source: str) -> CompiledScript:
    """Parse and compile every line; ScriptError (with the line) for the first bad one."""
    if len(source or "") > MAX_SCRIPT_CHARS:
        raise ScriptError(f"the script is longer than {MAX_SCRIPT_CHARS:,} characters")
    statements: list[_Statement] = []
    for number, raw in enumerate((source or "").splitlines(), start=1):
        text = _strip_comment(raw).strip()
        if not text:
            continue
        if len(statements) >= MAX_STATEMENTS:
            raise ScriptError(f"a script has at most {MAX_STATEMENTS} statements", line=number)
        statements.append(_statement(number, text))
    return CompiledScript(tuple(statements))


def _statement(number: int, text: str) -> _Statement:
    if match := _DELETE.match(text):
        return _Statement(number, "del", match.group(1), None)
    for pattern, kind in ((_FILTER, None), (_VARIABLE, "variable"), (_ASSIGN, "set")):
        match = pattern.match(text)
        if match is None:
            continue
        kind = kind or match.group(1)
        target = "" if pattern is _FILTER else match.group(1)
        expression = match.group(2)
        try:
            return _Statement(number, kind, target, compile_expression(expression))
        except ExpressionError as exc:
            raise ScriptError(str(exc), line=number) from None
    raise ScriptError(
        "expected “field = expression”, “$variable = expression”, “skip if …”, “keep if …” "
        "or “del field”",
        line=number,
    )


def _strip_comment(line: str) -> str:
    """Drop a ``#`` comment, but not a ``#`` inside a quoted string."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line


@lru_cache(maxsize=256)
def compile_condition(source: str) -> Callable[[Mapping[str, Any]], bool]:
    """A condition step's expression as a function record -> bool (ScriptError if bad)."""
    try:
        evaluate = compile_expression(source)
    except ExpressionError as exc:
        raise ScriptError(str(exc)) from None

    def test(record: Mapping[str, Any]) -> bool:
        try:
            return bool(evaluate(record))
        except (Exception, RecursionError, MemoryError) as exc:
            raise ScriptError(_reason(exc)) from None

    return test


def step_config_problem(kind: str, config: dict[str, Any]) -> str:
    """A script or condition step's configuration problem, for the designer (registered in
    this app's ready()); "" when it compiles."""
    try:
        if kind == "script":
            compile_script(str(config.get("script") or ""))
        elif kind == "condition":
            expression = str(config.get("expression") or "")
            if not expression.strip():
                return "Enter the condition's expression."
            compile_condition(expression)
    except ScriptError as exc:
        return exc.message
    return ""
