"""Writes that record their own audit entry (a restore, an import) silence the per-row entries
the model signals would add. Who is acting lives in ``designer.acting``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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
