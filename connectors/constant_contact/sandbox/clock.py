"""Timestamps in Constant Contact's format: ISO-8601, UTC, milliseconds, `Z`."""

from __future__ import annotations

import functools
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
