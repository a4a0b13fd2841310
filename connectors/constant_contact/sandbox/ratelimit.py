"""Per-API-key throttling as Constant Contact applies it: a burst/refill bucket plus a
daily quota. Not thread-safe on its own; the sandbox calls it under its lock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    buckets: dict[str, _Bucket] = field(default_factory=dict)
    daily: dict[tuple[str, str], int] = field(default_factory=dict)

    def allow(self, key: str, rate: float, now: float | None = None) -> bool:
        """Take one token from `key`'s bucket (capacity = rate, refilled at rate/s)."""
        if rate <= 0:
            return True
        now = time.monotonic() if now is None else now
        capacity = max(rate, 1.0)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        # A small tolerance so that requests spaced exactly 1/rate apart never fail
        # because of clock granularity.
        if bucket.tokens >= 1.0 - 1e-6:
            bucket.tokens -= 1.0
            return True
        return False

    def within_quota(self, key: str, quota: int) -> bool:
        """Count one call against today's (UTC) quota; False once it is spent."""
        if quota <= 0:
            return True
        day = datetime.now(UTC).date().isoformat()
        used = self.daily.get((key, day), 0)
        if used >= quota:
            return False
        self.daily[(key, day)] = used + 1
        return True

    def reset(self) -> None:
        self.buckets.clear()
        self.daily.clear()
