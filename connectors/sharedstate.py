"""State that every worker of a deployment shares: call slots (pacing) and daily call counts.

Three stores with one interface, chosen by ``shared_store()`` from the connector settings:

* ``RedisStore`` when ``redis_url`` is set: every worker on every machine, atomic Lua
  scripts timed by the Redis server's clock;
* ``SqliteStore`` when ``state_dir`` is set (the embedded default: the app hands in a folder
  under ``VAR_DIR``): every process on this machine, no server - one SQLite file in WAL mode,
  each operation one ``BEGIN IMMEDIATE`` transaction;
* ``MemoryStore`` otherwise: this process only (tests, scripts).

Pacing is a sliding window, counted the way a server that counts arrivals sees it. We cannot
know when a call arrives, only that it arrives after we send it and before its answer comes
back. So a call holds its place in the window from the moment it is sent until ``window``
seconds after its answer: if at most ``calls`` places are held at any moment, no window of
``window`` seconds at the server can see more than ``calls`` arrivals, however the network
jitters. Starts are also kept ``spacing`` apart, so the calls come evenly, not in bursts.
A call whose answer never comes (a worker killed mid-call) gives its place back after ``hold``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from connectors.config import connector_settings

logger = logging.getLogger(__name__)

GRANTED, WAIT, EXHAUSTED = "granted", "wait", "exhausted"
# Waiting on a call still in flight: its answer time is unknown, so look again this soon.
POLL_SECONDS = 0.02
DAY_TTL_SECONDS = 3 * 86_400  # daily counts are kept a little over a day (time zones, display)


@dataclass(frozen=True)
class Pace:
    """At most ``calls`` calls in any ``window`` seconds, starts ``spacing`` apart."""

    calls: int = 4
    window: float = 1.0
    spacing: float = 0.25
    hold: float = 60.0  # how long an unanswered call keeps its place


@dataclass(frozen=True)
class Decision:
    status: str  # GRANTED, WAIT or EXHAUSTED
    wait: float = 0.0  # seconds to wait before asking again (WAIT)
    used: int = 0  # calls counted that day, when a quota was asked to count (GRANTED, EXHAUSTED)


@dataclass(frozen=True)
class QuotaRequest:
    """Count the call a granted place is for against ``day``'s ``limit`` (0 = none), in the
    same round trip as the place: one transaction or script instead of two."""

    key: str
    day: str
    limit: int


class StoreUnavailable(Exception):
    """The shared store could not be used (Redis down, the state folder unwritable)."""


class SharedStore(Protocol):
    def acquire(
        self, key: str, slot_id: str, pace: Pace, quota: QuotaRequest | None = None
    ) -> Decision:
        """Take a place in ``key``'s window for ``slot_id`` now, or say how long to wait.

        With ``quota``, a granted place also counts its call; when that day's limit is
        reached nothing is taken or counted and the decision is EXHAUSTED."""
        ...

    def release(self, key: str, slot_id: str, pace: Pace) -> None:
        """The call's answer is in: its place is held ``pace.window`` seconds more."""
        ...

    def count_call(self, key: str, day: str, limit: int) -> tuple[bool, int]:
        """Count one call against ``day``'s ``limit`` (0 = none); (counted, calls that day).

        When the limit is reached the call is not counted and (False, limit-or-more) comes back.
        """
        ...

    def calls_on(self, key: str, day: str) -> int: ...


def hashed_key(namespace: str, identity: str) -> str:
    """A store key; the identity (an API key and its server) is hashed so it never shows."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"{namespace}:{digest}"


def decide(now: float, expiries: list[float], next_start: float, pace: Pace) -> Decision:
    """The one pacing rule every store applies (``expiries``: places still held, sorted).

    A place that ends within ``window`` seconds was answered, so its end is known exactly; a
    later end is a call still in flight, whose end we can only poll for.
    """
    if len(expiries) < pace.calls and now >= next_start:
        return Decision(GRANTED)
    wait = max(0.0, next_start - now)
    if len(expiries) >= pace.calls:
        freed_at = expiries[len(expiries) - pace.calls]  # when enough places are free again
        until = freed_at - now
        wait = max(wait, until if until <= pace.window else POLL_SECONDS)
    return Decision(WAIT, max(wait, 0.001))


def _sane(now: float, value: float, pace: Pace) -> bool:
    """False for times too far ahead to be ours (the clock was set back): forget those."""
    return value <= now + pace.hold + pace.window + pace.spacing


# -------------------------------------------------------------------------------- memory


@dataclass
class MemoryStore:
    """This process only, behind a lock."""

    slots: dict[str, dict[str, float]] = field(default_factory=dict)
    next_start: dict[str, float] = field(default_factory=dict)
    daily: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(
        self, key: str, slot_id: str, pace: Pace, quota: QuotaRequest | None = None
    ) -> Decision:
        with self.lock:
            used = self.daily.get((quota.key, quota.day), 0) if quota else 0
            if quota and quota.limit and used >= quota.limit:
                return Decision(EXHAUSTED, used=used)
            now = time.time()
            held = {
                sid: end
                for sid, end in self.slots.get(key, {}).items()
                if now < end and _sane(now, end, pace)
            }
            self.slots[key] = held
            next_start = self.next_start.get(key, 0.0)
            if not _sane(now, next_start, pace):
                next_start = 0.0
            decision = decide(now, sorted(held.values()), next_start, pace)
            if decision.status == GRANTED:
                held[slot_id] = now + pace.hold
                self.next_start[key] = now + pace.spacing
                if quota:
                    self.daily[(quota.key, quota.day)] = used + 1
                    return Decision(GRANTED, used=used + 1)
            return decision

    def release(self, key: str, slot_id: str, pace: Pace) -> None:
        with self.lock:
            self.slots.setdefault(key, {})[slot_id] = time.time() + pace.window

    def count_call(self, key: str, day: str, limit: int) -> tuple[bool, int]:
        with self.lock:
            used = self.daily.get((key, day), 0)
            if limit and used >= limit:
                return False, used
            self.daily[(key, day)] = used + 1
            return True, used + 1

    def calls_on(self, key: str, day: str) -> int:
        with self.lock:
            return self.daily.get((key, day), 0)


# -------------------------------------------------------------------------------- SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slots (
    key TEXT NOT NULL, slot_id TEXT NOT NULL, ends REAL NOT NULL, PRIMARY KEY (key, slot_id)
);
CREATE TABLE IF NOT EXISTS pace (key TEXT PRIMARY KEY, next_start REAL NOT NULL);
CREATE TABLE IF NOT EXISTS daily_calls (
    key TEXT NOT NULL, day TEXT NOT NULL, calls INTEGER NOT NULL, PRIMARY KEY (key, day)
);
"""


class SqliteStore:
    """Every process of this machine, through one SQLite file (no server).

    Each operation is one short ``BEGIN IMMEDIATE`` transaction: SQLite's file lock makes it
    atomic across processes. WAL with synchronous=NORMAL keeps a commit to microseconds; a
    power cut may lose the last few counts, which only the daily display would notice.
    Times are wall-clock (``time.time()``) so that every process reads the same clock.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection().executescript(_SCHEMA)  # its own transaction
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"{self.path}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and process: SQLite connections must not cross a fork.
        owner = (os.getpid(), threading.get_ident())
        if getattr(self._local, "owner", None) != owner:
            db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db, self._local.owner = db, owner
        return self._local.db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE ... COMMIT; any SQLite failure becomes StoreUnavailable."""
        try:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.path}: {exc}") from exc
        try:
            yield db
        except BaseException as exc:
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreUnavailable(f"{self.path}: {exc}") from exc
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.path}: {exc}") from exc

    def acquire(
        self, key: str, slot_id: str, pace: Pace, quota: QuotaRequest | None = None
    ) -> Decision:
        with self._transaction() as db:
            counted = None
            if quota:
                counted = db.execute(
                    "SELECT calls FROM daily_calls WHERE key = ? AND day = ?",
                    (quota.key, quota.day),
                ).fetchone()
                if quota.limit and counted and counted[0] >= quota.limit:
                    return Decision(EXHAUSTED, used=counted[0])
            now = time.time()
            db.execute(
                "DELETE FROM slots WHERE key = ? AND (ends <= ? OR ends > ?)",
                (key, now, now + pace.hold + pace.window + pace.spacing),
            )
            expiries = [
                row[0]
                for row in db.execute("SELECT ends FROM slots WHERE key = ? ORDER BY ends", (key,))
            ]
            row = db.execute("SELECT next_start FROM pace WHERE key = ?", (key,)).fetchone()
            next_start = row[0] if row and _sane(now, row[0], pace) else 0.0
            decision = decide(now, expiries, next_start, pace)
            if decision.status == GRANTED:
                db.execute(
                    "INSERT OR REPLACE INTO slots (key, slot_id, ends) VALUES (?, ?, ?)",
                    (key, slot_id, now + pace.hold),
                )
                db.execute(
                    "INSERT OR REPLACE INTO pace (key, next_start) VALUES (?, ?)",
                    (key, now + pace.spacing),
                )
                if quota:
                    used = self._count(db, quota.key, quota.day, counted[0] if counted else None)
                    return Decision(GRANTED, used=used)
            return decision

    def release(self, key: str, slot_id: str, pace: Pace) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO slots (key, slot_id, ends) VALUES (?, ?, ?)",
                (key, slot_id, time.time() + pace.window),
            )

    def count_call(self, key: str, day: str, limit: int) -> tuple[bool, int]:
        with self._transaction() as db:
            row = db.execute(
                "SELECT calls FROM daily_calls WHERE key = ? AND day = ?", (key, day)
            ).fetchone()
            used = row[0] if row else 0
            if limit and used >= limit:
                return False, used
            return True, self._count(db, key, day, row[0] if row else None)

    @staticmethod
    def _count(db: sqlite3.Connection, key: str, day: str, used: int | None) -> int:
        """One more call on ``day`` (``used``: the count read in this transaction, None when
        there was no row yet); the new count."""
        if used is None:  # a new day: forget old ones (any key), so the file stays small
            db.execute("DELETE FROM daily_calls WHERE day < ?", (_days_before(day, 2),))
        db.execute(
            "INSERT OR REPLACE INTO daily_calls (key, day, calls) VALUES (?, ?, ?)",
            (key, day, (used or 0) + 1),
        )
        return (used or 0) + 1

    def calls_on(self, key: str, day: str) -> int:
        with self._transaction() as db:
            row = db.execute(
                "SELECT calls FROM daily_calls WHERE key = ? AND day = ?", (key, day)
            ).fetchone()
        return row[0] if row else 0


def _days_before(day: str, days: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()


# -------------------------------------------------------------------------------- Redis

# KEYS: slots (sorted set: slot id -> end), next start[, the day's call counter]; ARGV: slot
# id, calls, window, spacing, hold, poll[, quota limit (0 = none), counter ttl]. Returns
# {granted 1/0/2 (2: the quota is used up), wait in microseconds, calls counted that day}
# (Lua numbers are truncated to integers in replies, so we scale).
_LUA_ACQUIRE = """
local counted = 0
if KEYS[3] then
  counted = tonumber(redis.call('GET', KEYS[3]) or '0')
  local limit = tonumber(ARGV[7])
  if limit > 0 and counted >= limit then return {2, 0, counted} end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local calls, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local spacing, hold, poll = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + hold + window + spacing), '+inf')
local held = redis.call('ZCARD', KEYS[1])
local next_start = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_start > now + spacing then next_start = 0 end
if held < calls and now >= next_start then
  redis.call('ZADD', KEYS[1], now + hold, ARGV[1])
  redis.call('EXPIRE', KEYS[1], math.ceil(hold + window) + 60)
  redis.call('SET', KEYS[2], tostring(now + spacing), 'EX', math.ceil(spacing) + 60)
  if KEYS[3] then
    counted = redis.call('INCR', KEYS[3])
    redis.call('EXPIRE', KEYS[3], tonumber(ARGV[8]))
  end
  return {1, 0, counted}
end
local wait = next_start - now
if wait < 0 then wait = 0 end
if held >= calls then
  local freed = redis.call('ZRANGE', KEYS[1], held - calls, held - calls, 'WITHSCORES')
  local untl = tonumber(freed[2]) - now
  if untl > window then untl = poll end
  if untl > wait then wait = untl end
end
if wait < 0.001 then wait = 0.001 end
return {0, math.floor(wait * 1000000), counted}
"""

# KEYS: slots; ARGV: slot id, window.
_LUA_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 60)
return 1
"""

# KEYS: the day's counter; ARGV: limit (0 = none), ttl. Returns {counted 1/0, calls}.
_LUA_COUNT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[1])
if limit > 0 and used >= limit then return {0, used} end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return {1, used}
"""


class RedisStore:
    """Every worker on every machine, through Redis (atomic scripts, the server's clock)."""

    def __init__(self, client: object) -> None:
        from redis.exceptions import RedisError

        self.client = client
        self._errors: type[Exception] = RedisError
        self._acquire = client.register_script(_LUA_ACQUIRE)  # type: ignore[attr-defined]
        self._release = client.register_script(_LUA_RELEASE)  # type: ignore[attr-defined]
        self._count = client.register_script(_LUA_COUNT)  # type: ignore[attr-defined]

    def _run(self, script: object, keys: list[str], args: list[object]) -> list[int]:
        try:
            return script(keys=keys, args=args)  # type: ignore[operator]
        except self._errors as exc:
            raise StoreUnavailable(str(exc)) from exc

    def acquire(
        self, key: str, slot_id: str, pace: Pace, quota: QuotaRequest | None = None
    ) -> Decision:
        keys = [f"limits:{key}:slots", f"limits:{key}:next"]
        args: list[object] = [
            slot_id,
            pace.calls,
            *map(repr, (pace.window, pace.spacing, pace.hold, POLL_SECONDS)),
        ]
        if quota:
            keys.append(f"limits:{quota.key}:calls:{quota.day}")
            args += [int(quota.limit), DAY_TTL_SECONDS]
        granted, micros, used = self._run(self._acquire, keys, args)
        if int(granted) == 2:
            return Decision(EXHAUSTED, used=int(used))
        if int(granted):
            return Decision(GRANTED, used=int(used))
        return Decision(WAIT, int(micros) / 1_000_000)

    def release(self, key: str, slot_id: str, pace: Pace) -> None:
        self._run(self._release, [f"limits:{key}:slots"], [slot_id, repr(pace.window)])

    def count_call(self, key: str, day: str, limit: int) -> tuple[bool, int]:
        counted, used = self._run(
            self._count, [f"limits:{key}:calls:{day}"], [int(limit), DAY_TTL_SECONDS]
        )
        return bool(int(counted)), int(used)

    def calls_on(self, key: str, day: str) -> int:
        try:
            value = self.client.get(f"limits:{key}:calls:{day}")  # type: ignore[attr-defined]
        except self._errors as exc:
            raise StoreUnavailable(str(exc)) from exc
        return int(value or 0)


# -------------------------------------------------------------------------------- choice

_stores: dict[str, SharedStore] = {}
_stores_lock = threading.Lock()
_fallback = MemoryStore()
_warned: set[str] = set()

STATE_FILE = "limits.sqlite3"


def shared_store() -> SharedStore:
    """The store the deployment configured: Redis, else the state folder, else memory."""
    settings = connector_settings()
    if settings.redis_url:
        where = "redis:" + settings.redis_url
    elif settings.state_dir:
        where = "sqlite:" + str(Path(settings.state_dir) / STATE_FILE)
    else:
        return _fallback
    with _stores_lock:
        store = _stores.get(where)
        if store is None:
            try:
                store = _open(where)
            except StoreUnavailable as exc:
                warn_fallback(where, exc)
                return _fallback
            _stores[where] = store
        return store


def _open(where: str) -> SharedStore:
    kind, _, location = where.partition(":")
    if kind == "sqlite":
        return SqliteStore(Path(location))
    import redis  # only deployments with Redis need the client library loaded

    # Short time-outs: an unreachable Redis must cost a call seconds, not hang it (the
    # limiter then paces this process alone).
    return RedisStore(
        redis.Redis.from_url(location, socket_connect_timeout=2.0, socket_timeout=2.0)
    )


def fallback_store() -> MemoryStore:
    """What callers use while the shared store is unavailable: this process alone."""
    return _fallback


def warn_fallback(where: str, exc: Exception) -> None:
    if where not in _warned:
        _warned.add(where)
        logger.warning(
            "Shared limits store %s unavailable (%s): pacing this process alone.",
            where.split("@")[-1],
            exc,
        )


def reset_memory_store() -> None:
    """Forget in-process slots and counts (tests and benchmarks start afresh)."""
    global _fallback
    with _stores_lock:
        _fallback = MemoryStore()
        _warned.clear()
