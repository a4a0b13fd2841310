"""Timestamps in Constant Contact's format: ISO-8601, UTC, milliseconds, `Z`."""

from __future__ import annotations

import functools
import threading
import time as _time
from datetime import UTC, datetime


@functools.lru_cache(maxsize=4096)  # imports and seeds stamp thousands of rows alike
def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


def to_epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # Constant Contact reads naive times as UTC
    return moment.timestamp()


class Clock:
    """The sandbox's time: token and code expiry, bulk activity progress, rate-limit windows,
    timestamps. Real by default. A test may ``freeze()`` it and ``advance(seconds)``, so those
    are checked without waiting, on a loaded machine as on an idle one; ``reset()`` (done by
    the sandbox's own reset) makes it real again. Like the client limiter's injectable clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: tuple[float, float] | None = None  # (wall, monotonic) when frozen
        self._offset = 0.0

    def time(self) -> float:
        with self._lock:
            base = self._frozen[0] if self._frozen else _time.time()
            return base + self._offset

    def monotonic(self) -> float:
        with self._lock:
            base = self._frozen[1] if self._frozen else _time.monotonic()
            return base + self._offset

    def freeze(self) -> None:
        """Stop the clock where it is: only ``advance`` moves it on."""
        with self._lock:
            if self._frozen is None:
                self._frozen = (_time.time(), _time.monotonic())

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._frozen, self._offset = None, 0.0
