"""What one Constant Contact call costs besides the HTTP request itself.

    .venv/bin/python -m benchmarks.cc_call_cost [--calls 400]

GET /contacts?limit=1 against an in-process sandbox (no throttling), through the connector's
client with the embedded shared store (a SQLite file in a state folder, as workers without
Redis use) and a connection whose secrets() reads a SQLite row and decrypts it with Fernet,
as the app's DbConnection does. Pacing windows are divided by 1,000 so the figure is the
overhead, not the 4/s wait. Per call: shared-store round trips (acquire, release, quota
count), secrets reads, and milliseconds.

"before": the code path before this change: the access token read from storage on every
call (TOKEN_CACHE_SECONDS = 0) and the daily quota counted in a round trip of its own before
the place is taken (the shared limiter behind a proxy, so the client counts separately);
"after": the token reused until it nears expiry, the call counted in the round trip that
takes its place.
Merged into benchmarks/results.json under "constant_contact_call_cost".
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from benchmarks.common import merge_results
from connectors import config as connector_config
from connectors import sharedstate
from connectors.base import MemoryConnection
from connectors.constant_contact import auth
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.sandbox import Sandbox
from connectors.ratelimit import reset_local_limiters

CLIENT_ID, CLIENT_SECRET = "cost-client", "cost-secret"
CALLS = 400


@dataclass
class RowConnection(MemoryConnection):
    """Secrets kept encrypted in a SQLite row and read back per secrets() call, like the
    app's DbConnection (one SELECT and a Fernet decryption)."""

    path: str = ""
    key: bytes = field(default_factory=Fernet.generate_key)
    reads: int = 0

    def __post_init__(self) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, secrets TEXT)")
            db.execute("DELETE FROM c")
            db.execute("INSERT INTO c VALUES (1, ?)", (self._seal(self.stored_secrets),))

    def _seal(self, value: dict[str, Any]) -> str:
        return Fernet(self.key).encrypt(json.dumps(value).encode()).decode()

    def secrets(self) -> dict[str, Any]:
        self.reads += 1
        with sqlite3.connect(self.path) as db:
            (token,) = db.execute("SELECT secrets FROM c WHERE id = 1").fetchone()
        return json.loads(Fernet(self.key).decrypt(token.encode()))

    def update_secrets(self, mutate):  # type: ignore[no-untyped-def]
        current = self.secrets()
        new = mutate(dict(current))
        if new is not None:
            with sqlite3.connect(self.path) as db:
                db.execute("UPDATE c SET secrets = ? WHERE id = 1", (self._seal(new),))
        return self.secrets()


class SeparateCount:
    """The shared limiter without its quota-counting slot: the client then counts the call
    in a round trip of its own first, as it did before."""

    def __init__(self, limiter: Any) -> None:
        self.limiter = limiter

    def slot(self) -> Any:
        return self.limiter.slot()


def counted_store_calls() -> Counter:
    """Count the SQLite store's round trips (each is one BEGIN IMMEDIATE transaction)."""
    counts: Counter = Counter()
    for name in ("acquire", "release", "count_call"):
        original = getattr(sharedstate.SqliteStore, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            counts[_name] += 1
            return _original(self, *args, **kwargs)

        setattr(sharedstate.SqliteStore, name, wrapper)
    return counts


def measure(
    sandbox: Sandbox, folder: Path, calls: int, counts: Counter, *, before: bool
) -> dict[str, Any]:
    tokens = sandbox.issue_tokens(CLIENT_ID)
    connection = RowConnection(
        name="bench",
        config={
            "client_id": CLIENT_ID,
            "auth_method": "oauth",
            "api_base_url": sandbox.api_base_url,
            "token_url": sandbox.token_url,
            "authorize_url": sandbox.authorize_url,
        },
        stored_secrets={
            "client_secret": CLIENT_SECRET,
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "expires_at": int(time.time()) + tokens["expires_in"],
            "token_lifetime": tokens["expires_in"],
        },
        path=str(folder / "connections.sqlite3"),
    )
    with ConstantContactClient(connection) as client:
        if before:
            client.limiter = SeparateCount(client.limiter)
        client.get_json("/contacts", params={"limit": 1})  # warm up: pool, imports, store
        counts.clear()
        connection.reads = 0
        started = time.perf_counter()
        for _ in range(calls):
            client.get_json("/contacts", params={"limit": 1})
        seconds = time.perf_counter() - started
    store = sum(counts.values())
    return {
        "calls": calls,
        "store_round_trips_per_call": round(store / calls, 2),
        "store_round_trips": dict(counts),
        "secrets_reads_per_call": round(connection.reads / calls, 3),
        "ms_per_call": round(seconds * 1000 / calls, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=CALLS)
    args = parser.parse_args()
    counts = counted_store_calls()
    sandbox = Sandbox(host="127.0.0.1", port=0, seed=0, rate_limit=0.0).start()
    sandbox.register_app(CLIENT_ID, CLIENT_SECRET)
    figures: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            connector_config.configure(
                url_allow_list=(sandbox.url,),
                state_dir=str(Path(tmp) / "state"),
                redis_url="",
                rate_limit_speedup=1000.0,
                constant_contact_daily_quota=1_000_000,
            )
            cached = auth.TOKEN_CACHE_SECONDS
            for label, seconds in (("before", 0.0), ("after", cached)):
                auth.TOKEN_CACHE_SECONDS = seconds
                reset_local_limiters()
                figures[label] = measure(
                    sandbox, Path(tmp), args.calls, counts, before=label == "before"
                )
            auth.TOKEN_CACHE_SECONDS = cached
    finally:
        sandbox.stop()
    print(json.dumps(figures, indent=2))
    merge_results("constant_contact_call_cost", figures)


if __name__ == "__main__":
    main()
