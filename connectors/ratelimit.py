"""Request pacing shared by every worker of a deployment.

``shared_limiter()`` gives a ``WindowLimiter``: at most N calls in any sliding window (for
Constant Contact: 4 in any second per API key), counted from each call's send to its answer
plus the window, so network jitter can never squeeze a fifth call into a server's second
(see ``connectors.sharedstate`` for the rule and the stores). It lives in Redis when the
deployment configures ``redis_url``, else in a SQLite file under ``state_dir`` shared by
every process of the machine, else in this process.

Callers wrap each call in ``with limiter.slot():``; the slot is taken before the call is sent
and given back (held one window more) when its answer is in.

``LocalTokenBucket`` is a plain in-process bucket (one request every ``1 / rate`` seconds),
kept for tests that want a fast limiter.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from connectors.quota import QuotaExhausted
from connectors.sharedstate import (
    EXHAUSTED,
    GRANTED,
    Pace,
    QuotaRequest,
    SharedStore,
    StoreUnavailable,
    fallback_store,
    hashed_key,
    reset_memory_store,
    shared_store,
    warn_fallback,
)


class RateLimiter(Protocol):
    def slot(self) -> AbstractContextManager[None]:
        """Wait for a place, hold it while the call runs (a context manager)."""
        ...


def wait(limiter: LocalTokenBucket, sleep: Callable[[float], None] = time.sleep) -> float:
    """Reserve a bucket slot and sleep until it starts; returns the seconds slept."""
    delay = limiter.acquire()
    if delay > 0:
        sleep(delay)
    return delay


class WindowLimiter:
    """At most ``pace.calls`` calls in any ``pace.window`` seconds per key, in a shared store."""

    def __init__(
        self,
        key: str,
        pace: Pace,
        store: SharedStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.pace = pace
        self._store = store
        self._sleep = sleep
        self.waited = 0.0  # seconds this limiter's callers spent waiting (benchmarks)

    @property
    def store(self) -> SharedStore:
        return self._store if self._store is not None else shared_store()

    @contextmanager
    def slot(self, quota: QuotaRequest | None = None) -> Iterator[None]:
        """Hold a place for one call; with ``quota``, the call is counted against it in the
        same round trip as the place is taken (QuotaExhausted, nothing taken, past it)."""
        slot_id = uuid.uuid4().hex
        store = self.store
        while True:
            try:
                decision = store.acquire(self.key, slot_id, self.pace, quota)
            except StoreUnavailable as exc:
                # The store is away: pace this process alone rather than stop every run.
                warn_fallback(type(store).__name__, exc)
                store = fallback_store()
                decision = store.acquire(self.key, slot_id, self.pace, quota)
            if decision.status == EXHAUSTED and quota is not None:
                raise QuotaExhausted(decision.used, quota.limit, quota.day)
            if decision.status == GRANTED:
                break
            self.waited += decision.wait
            self._sleep(decision.wait)
        try:
            yield
        finally:
            try:
                store.release(self.key, slot_id, self.pace)
            except StoreUnavailable as exc:
                warn_fallback(type(store).__name__, exc)


class LocalTokenBucket:
    """Thread-safe, in-process bucket, one slot every ``1 / rate`` s (tests' fast limiter)."""

    def __init__(
        self, rate: float, capacity: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = capacity
        self._updated = clock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        wait(self)
        yield

    def acquire(self) -> float:
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate) - 1.0
            self._updated = now
            return -self._tokens / self.rate if self._tokens < 0 else 0.0


def bucket_key(namespace: str, identity: str) -> str:
    """The store key of ``identity`` (e.g. an API key); hashed so it never shows there."""
    return hashed_key(f"ratelimit:{namespace}", identity)


def shared_limiter(namespace: str, identity: str, *, pace: Pace) -> WindowLimiter:
    """The limiter every caller with the same (namespace, identity) shares, in every process
    that uses the same store."""
    return WindowLimiter(bucket_key(namespace, identity), pace)


def reset_local_limiters() -> None:
    """Forget in-process slots and counts (tests and benchmarks start afresh)."""
    reset_memory_store()
