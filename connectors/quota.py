"""Daily call quotas, counted ahead: each call is counted before it is sent, in the store
every worker shares (``connectors.sharedstate``), so a run stops before the far side refuses.

Constant Contact allows 10,000 calls per API key per UTC day; a call past that earns a 429
``quota_exceeded`` that no retry can cure until midnight UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.sharedstate import (
    QuotaRequest,
    SharedStore,
    StoreUnavailable,
    fallback_store,
    hashed_key,
    shared_store,
    warn_fallback,
)


class QuotaExhausted(Exception):
    def __init__(self, used: int, limit: int, day: str) -> None:
        super().__init__(f"{used} of {limit} calls used on {day} (UTC)")
        self.used = used
        self.limit = limit
        self.day = day


def utc_day(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).date().isoformat()


class DailyQuota:
    """``limit`` calls per UTC day for one key (0 = count, but never refuse)."""

    def __init__(self, key: str, limit: int, store: SharedStore | None = None) -> None:
        self.key = key
        self.limit = max(0, int(limit))
        self._store = store

    @property
    def store(self) -> SharedStore:
        return self._store if self._store is not None else shared_store()

    def take(self) -> int:
        """Count one call about to be sent; the calls today including it.

        Raises ``QuotaExhausted`` (and counts nothing) when today's calls reached the limit.
        """
        day = utc_day()
        store = self.store
        try:
            counted, used = store.count_call(self.key, day, self.limit)
        except StoreUnavailable as exc:
            warn_fallback(type(store).__name__, exc)
            counted, used = fallback_store().count_call(self.key, day, self.limit)
        if not counted:
            raise QuotaExhausted(used, self.limit, day)
        return used

    def request(self) -> QuotaRequest:
        """Today's count, for a limiter to take with the call's place (one round trip)."""
        return QuotaRequest(self.key, utc_day(), self.limit)

    def exhausted(self, used: int, day: str) -> QuotaExhausted:
        return QuotaExhausted(used, self.limit, day)

    def used(self) -> int:
        """Calls counted so far today (UTC)."""
        store = self.store
        try:
            return store.calls_on(self.key, utc_day())
        except StoreUnavailable:
            return fallback_store().calls_on(self.key, utc_day())


def daily_quota(namespace: str, identity: str, limit: int) -> DailyQuota:
    return DailyQuota(hashed_key(f"quota:{namespace}", identity), limit)
