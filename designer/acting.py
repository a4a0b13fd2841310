"""Who is acting in the current request: a core module every app may read.

Set by ``designer.projects.access.project_view`` around every project view, so a component
deleted or created deep inside a service (and the audit entry a model signal writes for it) is
still attributed to the person who did it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_actor: ContextVar[Any] = ContextVar("acting_user", default=None)


def current_actor() -> Any:
    return _actor.get()


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)
