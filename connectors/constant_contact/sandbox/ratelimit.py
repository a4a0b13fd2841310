"""Per-API-key throttling as Constant Contact applies it, and what it measured.

Two readings of "4 requests per second": a burst/refill bucket (capacity = rate, the
default), or, with the ``sliding_window`` knob, the strict one: at most ``rate`` calls in
ANY sliding second of arrivals, every call counted (an independent, strict simulator).
Either way the limiter measures every key's traffic against the sliding window: calls, the
most calls seen in any one second, and the 429s it answered (``GET /_sandbox/rate``).
Plus the daily quota. Not thread-safe on its own; the sandbox calls it under its lock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .clock import Clock

WINDOW_SECONDS = 1.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Traffic:
    """One key's calls as they arrived, measured against a sliding 1-second window."""

    recent: deque[float] = field(default_factory=deque)  # arrivals within the last second
    calls: int = 0
    max_in_window: int = 0
    throttled: int = 0  # 429 throttled (rate)
    quota_refused: int = 0  # 429 quota_exceeded
    first: float | None = None
    last: float | None = None

    def arrive(self, now: float) -> int:
        """Record one arrival; how many arrived in the second up to and including it."""
        while self.recent and self.recent[0] <= now - WINDOW_SECONDS:
            self.recent.popleft()
        self.recent.append(now)
        self.calls += 1
        self.first = now if self.first is None else self.first
        self.last = now
        self.max_in_window = max(self.max_in_window, len(self.recent))
        return len(self.recent)

    def as_dict(self) -> dict[str, Any]:
        span = (self.last - self.first) if self.first is not None and self.last else 0.0
        return {
            "calls": self.calls,
            "max_in_any_second": self.max_in_window,
            "http_429": self.throttled + self.quota_refused,
            "throttled": self.throttled,
            "quota_exceeded": self.quota_refused,
            "seconds": round(span, 3),
        }


@dataclass
class RateLimiter:
    buckets: dict[str, _Bucket] = field(default_factory=dict)
    daily: dict[tuple[str, str], int] = field(default_factory=dict)
    traffic: dict[str, Traffic] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)

    def allow(
        self, key: str, rate: float, now: float | None = None, *, sliding: bool = False
    ) -> bool:
        """Record one call of ``key`` and say whether the rate limit lets it through."""
        now = self.clock.monotonic() if now is None else now
        traffic = self.traffic.setdefault(key, Traffic())
        in_window = traffic.arrive(now)
        if rate <= 0:
            return True
        allowed = in_window <= rate if sliding else self._bucket_allows(key, rate, now)
        if not allowed:
            traffic.throttled += 1
        return allowed

    def _bucket_allows(self, key: str, rate: float, now: float) -> bool:
        """Take one token from `key`'s bucket (capacity = rate, refilled at rate/s)."""
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
        day = datetime.fromtimestamp(self.clock.time(), UTC).date().isoformat()
        used = self.daily.get((key, day), 0)
        if used >= quota:
            self.traffic.setdefault(key, Traffic()).quota_refused += 1
            return False
        self.daily[(key, day)] = used + 1
        return True

    def measured(self) -> dict[str, Any]:
        """Per API key: calls, the most in any sliding second, 429s answered."""
        return {
            "window_seconds": WINDOW_SECONDS,
            "keys": {key: traffic.as_dict() for key, traffic in sorted(self.traffic.items())},
        }

    def reset(self) -> None:
        self.buckets.clear()
        self.daily.clear()
        self.traffic.clear()
