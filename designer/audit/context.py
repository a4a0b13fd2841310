"""Who is acting in the current request, for audit entries written by signal handlers.

Set by ``designer.projects.access.project_view`` around every project view, so a component
deleted or created deep inside a service is still attributed to the person who did it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_actor: ContextVar[Any] = ContextVar("audit_actor", default=None)


def current_actor() -> Any:
    return _actor.get()


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


_quiet: ContextVar[bool] = ContextVar("audit_quiet", default=False)


def signals_quiet() -> bool:
    return _quiet.get()


@contextmanager
def quiet_signals() -> Iterator[None]:
    """For writes that record their own entry (a restore, an import): no per-row entries."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)
