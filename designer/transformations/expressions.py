"""Expressions in mapping rules: Jinja2 expressions in a sandbox, compiled once.

An expression sees the source record's fields as variables (``first_name ~ " " ~
last_name``) and the whole record as ``record`` (``record["E-mail"]`` for awkward names). It
returns a real value - a string, a number, a list - not rendered text. The sandbox refuses
attribute tricks and changes to the record, and bounds every evaluation's time and the size
of what it builds (``expression_limits``), so one rule can't stall a web thread or eat a
worker's memory.
"""

from __future__ import annotations

import functools
import json
import re
import types
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, nodes, pass_environment
from jinja2.compiler import CodeGenerator, Frame
from jinja2.filters import make_attrgetter
from jinja2.runtime import str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import _PassArg, generate_lorem_ipsum

from designer.transformations import expression_limits as limits

MAX_SOURCE_CHARS = 4000
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


class _BoundedCodeGenerator(CodeGenerator):
    """``a ~ b`` turns values into text outside every sandbox hook; route it through one."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _BoundedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        limits.ensure_format_spec(format_spec)
        return limits.charge(super().format_field(value, format_spec))


# Methods that build a value from a size argument in one C call, with no check possible
# before: refused outright (the rest of each type's methods stay available).
_BLOCKED_METHODS: tuple[tuple[type, frozenset[str]], ...] = (
    (str, frozenset({"expandtabs", "translate", "maketrans", "encode"})),
    (int, frozenset({"to_bytes"})),
)


def _predict_str_method(method: Any, args: tuple, kwargs: dict) -> tuple:
    """Refuse a str method call whose result would be too large; the args to call it with."""
    text: str = method.__self__
    name = method.__name__
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        if isinstance(width, int):
            limits.ensure(width)
    elif name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        times = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        limits.ensure(len(text) + times * (len(new) - len(old)))
    elif name == "join" and args:
        items = list(args[0])
        limits.ensure(sum(limits.measure(i) for i in items) + len(text) * len(items))
        return (items, *args[1:])
    return args


class MappingSandbox(ImmutableSandboxedEnvironment):
    """Immutable: an expression can't change the record (record.pop(...)) under other rules.

    Every hook checks the evaluation's deadline and the size of what it builds (see
    ``expression_limits``), so an expression is refused, not left to stall the process.
    """

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        limits.check_time()
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int) and count > 0:
                    limits.ensure(limits.measure(seq) * count)
            if _is_int(left) and _is_int(right):
                limits.ensure_int_bits(left.bit_length() + right.bit_length())
        elif operator_name == "**":
            if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
                limits.ensure_int_bits(left.bit_length() * right)
        elif operator_name == "%" and isinstance(left, str):
            limits.ensure_percent_format(left)
        return limits.charge(self.binop_table[operator_name](left, right))

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        limits.check_time()
        limits.ensure(sum(limits.measure(part) for part in parts))
        return limits.charge(str_join(parts))

    def getattr(self, obj: Any, attribute: str) -> Any:
        limits.check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        limits.check_time()
        return super().getitem(obj, argument)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        for kind, names in _BLOCKED_METHODS:
            if isinstance(obj, kind) and attr in names:
                return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__
        vformat = _BoundedFormatter(self).vformat
        is_format_map = value.__name__ == "format_map"

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            limits.check_time()
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            return limits.charge(str(vformat(text, args, kwargs)))

        return bounded_format

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:
        limits.check_time()
        if isinstance(__obj, types.BuiltinMethodType) and isinstance(
            getattr(__obj, "__self__", None), str
        ):
            args = _predict_str_method(__obj, args, kwargs)
        return limits.charge(super().call(__context, __obj, *args, **kwargs))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_PLAIN = frozenset({str, int, float, bool, type(None), list, tuple, dict})


def _materialised(value: Any) -> Any:
    """A generator (the output of map, select...) as a list, counted like any value."""
    if isinstance(value, Iterator) and not isinstance(value, str):
        return limits.charge(list(value))
    return value


def _bounded_filter(func: Callable[..., Any], predict: Callable[..., Any] | None = None):
    """A filter that checks the deadline, predicts its result's size, then counts it."""
    skip = 1 if _PassArg.from_obj(func) is not None else 0  # context / environment first

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        limits.check_time()
        for arg in args:
            if type(arg) not in _PLAIN:  # a generator (or a context) may need materialising
                args = tuple(a if i < skip else _materialised(a) for i, a in enumerate(args))
                break
        if predict is not None:
            predict(*args[skip:], **kwargs)
        return limits.charge(func(*args, **kwargs))

    return run


def _width(value: Any) -> int:
    return value if _is_int(value) else len(str(value))


def _predict_center(value: Any, width: int = 80) -> None:
    limits.ensure(_width(width))


def _predict_indent(value: Any, width: Any = 4, *args: Any, **kwargs: Any) -> None:
    lines = str(value).count("\n") + 1
    limits.ensure(len(str(value)) + lines * _width(width))


def _predict_wordwrap(value: Any, width: int = 79, *args: Any, **kwargs: Any) -> None:
    wrapstring = kwargs.get("wrapstring") or (args[1] if len(args) > 1 else None) or "\n"
    text = str(value)
    breaks = len(text) // max(int(width) if _is_int(width) else 1, 1) + text.count("\n") + 1
    limits.ensure(len(text) + breaks * len(str(wrapstring)))


def _predict_replace(value: Any, old: Any, new: Any, count: int | None = None) -> None:
    text, old, new = str(value), str(old), str(new)
    times = text.count(old) if old else len(text) + 1
    if _is_int(count) and count >= 0:
        times = min(times, count)
    limits.ensure(len(text) + times * (len(new) - len(old)))


def _predict_join(value: Any, d: str = "", attribute: Any = None) -> None:
    items = value if isinstance(value, list | tuple | str) else []
    separators = len(str(d)) * max(len(items) - 1, 0)
    limits.ensure(sum(limits.measure(item) for item in items) + separators)


def _predict_format(value: Any, *args: Any, **kwargs: Any) -> None:
    limits.ensure_percent_format(str(value))


def _predict_batch(value: Any, linecount: int, fill_with: Any = None) -> None:
    if fill_with is not None and _is_int(linecount):
        limits.ensure(linecount)


def _predict_slice(value: Any, slices: int, fill_with: Any = None) -> None:
    if _is_int(slices):
        limits.ensure(slices)


def _predict_tojson(value: Any, indent: int | None = None) -> None:
    if indent is not None and (not _is_int(indent) or indent > 8):
        raise limits.ExpressionLimitError("tojson's indent is limited to 8")


def _predict_slow_text(value: Any, *args: Any, **kwargs: Any) -> None:
    if len(str(value)) > limits.MAX_SLOW_TEXT:
        raise limits.ExpressionLimitError(
            f"this filter takes at most {limits.MAX_SLOW_TEXT:,} characters"
        )


def _predict_wordwrap_bounded(value: Any, *args: Any, **kwargs: Any) -> None:
    _predict_slow_text(value)
    _predict_wordwrap(value, *args, **kwargs)


def _predict_indent_bounded(value: Any, *args: Any, **kwargs: Any) -> None:
    _predict_slow_text(value)
    _predict_indent(value, *args, **kwargs)


_PREDICTIONS: dict[str, Callable[..., Any]] = {
    "center": _predict_center,
    "indent": _predict_indent_bounded,
    "wordwrap": _predict_wordwrap_bounded,
    "urlize": _predict_slow_text,
    "striptags": _predict_slow_text,
    "title": _predict_slow_text,
    "replace": _predict_replace,
    "join": _predict_join,
    "format": _predict_format,
    "batch": _predict_batch,
    "slice": _predict_slice,
    "tojson": _predict_tojson,
}


@pass_environment
def _sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    """Numbers are summed at once; anything else (lists, strings) step by step, each step
    bounded, because the builtin ``sum`` of lists is quadratic inside one C call."""
    items = list(iterable)
    if attribute is not None:
        getter = make_attrgetter(environment, attribute)
        items = [getter(item) for item in items]
    if isinstance(start, int | float) and all(isinstance(i, int | float) for i in items):
        return sum(items, start)
    total = start
    for item in items:
        total = environment.call_binop(None, "+", total, item)
    return total


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    limits.ensure(_width(n) * _width(max) * 14)  # words are at most ~13 characters and a space
    return generate_lorem_ipsum(n=n, html=html, min=min, max=max)


def _environment() -> MappingSandbox:
    env = MappingSandbox()
    env.filters.update(
        split=_split,
        to_int=_to_int,
        to_float=_to_float,
        to_bool=_to_bool,
        digits=_digits,
        from_json=_from_json,
        sum=_sum,
    )
    env.filters = {
        name: _bounded_filter(func, _PREDICTIONS.get(name)) for name, func in env.filters.items()
    }
    env.globals.update(coalesce=_coalesce, split=_split, lipsum=_lipsum)
    return env


ENV = _environment()


class ExpressionError(Exception):
    pass


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> Callable[[Mapping[str, Any]], Any]:
    """A function record -> value; ExpressionError if the expression can't be parsed."""
    if not source or not source.strip():
        raise ExpressionError("the expression is empty")
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(f"the expression is longer than {MAX_SOURCE_CHARS:,} characters")
    try:
        compiled = ENV.compile_expression(source, undefined_to_none=True)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.message}") from None
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply") from None

    def evaluate(record: Mapping[str, Any]) -> Any:
        token = limits.enter()
        try:
            return compiled(**names_of(record))
        finally:
            limits.leave(token)

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
    except (TemplateSyntaxError, RecursionError):
        return None

    def evaluate(record: Mapping[str, Any]) -> list[Any]:
        token = limits.enter()
        try:
            values = compiled(**names_of(record))
        finally:
            limits.leave(token)
        return [None if isinstance(v, Undefined) else v for v in values]

    return evaluate


def referenced_names(source: str) -> set[str]:
    """Top-level variables an expression reads (for "unknown field" warnings)."""
    from jinja2 import meta

    try:
        return set(meta.find_undeclared_variables(ENV.parse("{{ " + source + " }}")))
    except TemplateSyntaxError:
        return set()
