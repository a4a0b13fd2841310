"""Time and memory bounds for user-written expressions, in the web process and in workers.

An expression runs in a thread that also serves other users (a preview in a web thread) or
that must keep its heartbeat (a worker), so no signal or process can stop it. Instead:

* every sandbox hook (calls, operators, attribute lookups, filters, ``~``) checks a deadline
  kept in a context variable, so a loop made of filters stops within one step of it;
* every value an operation produces is measured (characters, items, digits; the walk stops
  at the cap) before it is handed back, and all of them together are charged to a budget per
  evaluation, so thousands of small results can't add up to gigabytes;
* the operations that could build a huge value in one C call (``*``, ``**``, ``%``,
  ``center``, ``format``, ``replace``, ``join``, ``lipsum``...) have their result size
  predicted and refused before they start: one such call can't be interrupted and would hold
  the GIL, stalling every other thread of the process.

``ExpressionLimitError`` is a ``SecurityError`` so callers already treat it as "not allowed".
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jinja2.sandbox import SecurityError

_now = time.monotonic
MAX_SIZE = 1_000_000  # characters, list items or decimal digits in one value
MAX_ITEMS = 100_000  # items in one list or dict (as Jinja's sandbox caps range()): per-item
# filters (sort with a key, unique, groupby, map) cost microseconds per item
MAX_SLOW_TEXT = 100_000  # characters into the few filters that walk text in Python (urlize...)
MAX_TOTAL = 10 * MAX_SIZE  # all the values one evaluation produces, together
MAX_INT_BITS = 65_536  # about 20,000 decimal digits
DEFAULT_SECONDS = 0.4  # per evaluation, when the caller sets none (settings.EXPRESSION_TIME_LIMIT)


class ExpressionLimitError(SecurityError):
    """The expression would take too long or build too large a value."""


def too_large() -> ExpressionLimitError:
    return ExpressionLimitError(
        f"the result would be too large (over {MAX_SIZE:,} characters or items)"
    )


@dataclass
class _Bounds:
    deadline: float
    seconds: float
    spent: int = 0


_BOUNDS: contextvars.ContextVar[_Bounds | None] = contextvars.ContextVar(
    "expression_bounds", default=None
)


def time_limit() -> float:
    try:
        return float(getattr(settings, "EXPRESSION_TIME_LIMIT", DEFAULT_SECONDS))
    except ImproperlyConfigured:  # no Django settings (a script)
        return DEFAULT_SECONDS


def enter(seconds: float | None = None) -> contextvars.Token:
    """Start one evaluation: a fresh size budget, and a deadline no later than an enclosing
    one. ``leave(token)`` ends it. (A plain pair, not a context manager: it runs per record.)"""
    seconds = time_limit() if seconds is None else seconds
    outer = _BOUNDS.get()
    deadline = _now() + seconds
    if outer is not None and outer.deadline < deadline:
        deadline, seconds = outer.deadline, outer.seconds
    return _BOUNDS.set(_Bounds(deadline, seconds))


def leave(token: contextvars.Token) -> None:
    _BOUNDS.reset(token)


@contextmanager
def bounded(seconds: float | None = None) -> Iterator[None]:
    """``enter``/``leave`` as a context manager: around a whole preview in the web view, so
    that many slow records still answer in about ``seconds``."""
    token = enter(seconds)
    try:
        yield
    finally:
        leave(token)


def check_time() -> None:
    bounds = _BOUNDS.get()
    if bounds is not None and _now() > bounds.deadline:
        raise ExpressionLimitError(f"the expression took longer than {bounds.seconds:g} s")


def measure(value: Any, cap: int = MAX_SIZE) -> int:
    """About how many characters the value takes as text; stops counting past ``cap``."""
    kind = type(value)
    if kind is str:  # the common cases first, without the walk
        return min(len(value), cap + 1)
    if kind is int:
        return value.bit_length() // 3 + 1
    if kind is float or kind is bool or value is None:
        return 1
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 1
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, dict):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            stack.extend(item)
        else:
            total += 1
        if total > cap:
            return cap + 1
    return total


def ensure(predicted: int | float) -> None:
    """Refuse an operation whose result would exceed the size cap, before running it."""
    if predicted > MAX_SIZE:
        raise too_large()


def charge(value: Any) -> Any:
    """Check a value just built, count it against the evaluation's budget, return it."""
    if type(value) in (list, tuple, dict, set) and len(value) > MAX_ITEMS:  # before the walk
        raise ExpressionLimitError(f"the result would have more than {MAX_ITEMS:,} items")
    size = measure(value)
    if size > MAX_SIZE:
        raise too_large()
    bounds = _BOUNDS.get()
    if bounds is not None:
        bounds.spent += size
        if bounds.spent > MAX_TOTAL:
            raise ExpressionLimitError(
                f"the expression builds too much data (over {MAX_TOTAL:,} characters or items)"
            )
    return value


def ensure_int_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise ExpressionLimitError(f"the number would be too large (over {MAX_INT_BITS:,} bits)")


# printf-style conversions: %[(name)][flags][width][.precision]type
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")
# a format() spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_FORMAT_SPEC = re.compile(r"^(?:.?[<>=^])?[+\- ]?z?#?0?(\d+)?[,_]?(?:\.(\d+))?[a-zA-Z%]?$")


def ensure_percent_format(template: str) -> None:
    """``'%01000000000d' % 1``: a width or precision above the cap, or a ``*`` one, refused."""
    for match in _PERCENT_SPEC.finditer(template):
        for number in match.groups():
            if number == "*":
                raise ExpressionLimitError("a '*' width or precision is not allowed in a format")
            if number and int(number) > MAX_SIZE:
                raise too_large()


def ensure_format_spec(spec: str) -> None:
    """``'{:>1000000000}'.format(1)``: the same check on a ``format()`` spec."""
    match = _FORMAT_SPEC.match(spec or "")
    if match is None:
        digits = [int(d) for d in re.findall(r"\d+", spec or "")]
        if any(d > MAX_SIZE for d in digits):
            raise too_large()
        return
    for number in match.groups():
        if number and int(number) > MAX_SIZE:
            raise too_large()
