"""Request pacing shared by every worker of a deployment.

A limiter hands out evenly spaced start times: ``acquire()`` reserves the next free slot and
returns how long the caller must sleep before using it (``wait()`` does the sleeping). Slots
are reserved, not polled for, so callers queue fairly and nobody spins.

The algorithm is a token bucket whose level may go negative (a reservation): with a capacity
of one token it degenerates to GCRA, i.e. one request every ``1 / rate`` seconds and no
bursts, which is what an API that counts requests per second (Constant Contact: 4 per
second per API key, no Retry-After) wants - bursts are exactly what earn 429s.

With ``connector_settings().redis_url`` set, the bucket lives in Redis and is updated by one
Lua script (atomic, and timed by the Redis server's clock so workers on machines with
different clocks still agree); otherwise it lives in this process, behind a lock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

from connectors.config import connector_settings


class RateLimiter(Protocol):
    rate: float

    def acquire(self) -> float:
        """Reserve the next slot; seconds to wait before it starts (0 = go now)."""
        ...


def wait(limiter: RateLimiter, sleep: Callable[[float], None] = time.sleep) -> float:
    """Reserve a slot and sleep until it starts; returns the seconds slept."""
    delay = limiter.acquire()
    if delay > 0:
        sleep(delay)
    return delay


class LocalTokenBucket:
    """Thread-safe, in-process bucket: enough for one worker process (embedded mode)."""

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

    def acquire(self) -> float:
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate) - 1.0
            self._updated = now
            return -self._tokens / self.rate if self._tokens < 0 else 0.0


# KEYS[1] = bucket key; ARGV = rate, capacity. Returns the wait in microseconds (an integer:
# Lua numbers become truncated integers in replies, so we scale rather than lose precision).
_LUA_ACQUIRE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = capacity
  updated = now
end
local elapsed = now - updated
if elapsed < 0 then elapsed = 0 end
tokens = math.min(capacity, tokens + elapsed * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
-- Forget idle buckets; a full refill takes capacity / rate seconds, so keep a bit longer.
redis.call('EXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 60)
if tokens < 0 then
  return math.floor(-tokens / rate * 1000000)
end
return 0
"""


class RedisTokenBucket:
    """The same bucket in Redis, shared by every worker on every machine."""

    def __init__(
        self,
        client: object,
        key: str,
        rate: float,
        capacity: float = 1.0,
        fallback: LocalTokenBucket | None = None,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        from redis.exceptions import RedisError

        self.rate = rate
        self.capacity = capacity
        self.key = key
        self._errors: type[Exception] = RedisError
        self._script = client.register_script(_LUA_ACQUIRE)  # type: ignore[attr-defined]
        self._fallback = fallback or LocalTokenBucket(rate, capacity)

    def acquire(self) -> float:
        try:
            micros = self._script(keys=[self.key], args=[repr(self.rate), repr(self.capacity)])
        except self._errors:
            # Redis away: pace this process alone rather than stop every run. Workers may
            # then together exceed the limit for a while; their 429 backoff absorbs that.
            return self._fallback.acquire()
        return int(micros) / 1_000_000


_local_buckets: dict[tuple[str, float, float], LocalTokenBucket] = {}
_redis_clients: dict[str, object] = {}
_registry_lock = threading.Lock()


def bucket_key(namespace: str, identity: str) -> str:
    """A Redis-safe key; the identity (e.g. an API key) is hashed so it never shows there."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"ratelimit:{namespace}:{digest}"


def shared_limiter(
    namespace: str, identity: str, *, rate: float, capacity: float = 1.0
) -> RateLimiter:
    """The limiter every caller with the same (namespace, identity) shares.

    Redis-backed when the deployment configures ``redis_url``, in-process otherwise.
    """
    key = bucket_key(namespace, identity)
    redis_url = connector_settings().redis_url
    with _registry_lock:
        if redis_url:
            client = _redis_clients.get(redis_url)
            if client is None:
                import redis  # only deployments with Redis need the client library loaded

                client = redis.Redis.from_url(redis_url)
                _redis_clients[redis_url] = client
            return RedisTokenBucket(client, key, rate, capacity, _local_bucket(key, rate, capacity))
        return _local_bucket(key, rate, capacity)


def _local_bucket(key: str, rate: float, capacity: float) -> LocalTokenBucket:
    """The process-wide bucket for ``key`` (call with ``_registry_lock`` held)."""
    bucket = _local_buckets.get((key, rate, capacity))
    if bucket is None:
        bucket = LocalTokenBucket(rate, capacity)
        _local_buckets[(key, rate, capacity)] = bucket
    return bucket


def reset_local_limiters() -> None:
    """Forget in-process buckets (tests and benchmarks start from a full bucket)."""
    with _registry_lock:
        _local_buckets.clear()
