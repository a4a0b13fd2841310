"""Constant Contact connector against the sandbox at its real rate limit (4 requests/s).

    .venv/bin/python -m benchmarks.constant_contact

The sandbox runs in a child process (so its memory and CPU don't blur ours), with the
real 4/s per-API-key limit on and the daily quota off. Measured through the connector's
own activities, exactly as a run would call them:

* Query 20,000 contacts: calls, seconds, the ratio to the floor (calls / 4 per second),
  429s received, and peak traced memory at 2,000 vs 20,000 contacts (flat = streaming).
* Create 10,000 in bulk mode: calls (imports + activity polls).
* Create per record: 200 contacts measured, 10,000 extrapolated (at 4/s a real run of
  10,000 takes ~42 minutes; that is the point of bulk mode).
* Delete 5,000 in bulk mode: calls (deletes + polls).

Prints a table and merges the figures into benchmarks/results.json under
"constant_contact" (read-modify-write under a file lock; other benchmarks own other keys).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from benchmarks.common import merge_results, traced_peak
from connectors import config as connector_config
from connectors.base import (
    ActivityType,
    HttpExchange,
    MemoryConnection,
    RecordResult,
    RunContext,
)
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.activities.delete import DeleteContacts
from connectors.constant_contact.activities.query import QueryContacts
from connectors.constant_contact.sandbox.store import stable_id
from connectors.ratelimit import reset_local_limiters

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
RATE = 4.0
PER_RECORD_SAMPLE = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sandbox_process() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connectors.constant_contact.sandbox",
            "--port",
            str(port),
            "--seed",
            "0",
            "--rate-limit",
            str(RATE),
            "--daily-quota",
            "0",
            "--app",
            f"{CLIENT_ID}:{CLIENT_SECRET}",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(url + "/_sandbox/stats", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.05)
        else:
            raise RuntimeError("the sandbox did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class Meter:
    """Counts what the connector sent, from its own HttpExchange reports."""

    def __init__(self) -> None:
        self.exchanges: list[HttpExchange] = []

    def __call__(self, exchange: HttpExchange) -> None:
        self.exchanges.append(exchange)

    def take(self) -> dict[str, int]:
        api = [e for e in self.exchanges if "/v3/" in e.url]
        figures = {
            "calls": len(api),
            "polls": sum(1 for e in api if e.method == "GET" and "/v3/activities/" in e.url),
            "http_429": sum(1 for e in api if e.status == 429),
        }
        self.exchanges.clear()
        return figures


def control(url: str, path: str, body: dict[str, Any]) -> Any:
    response = requests.post(f"{url}/_sandbox/{path}", json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def sandbox_context(url: str, meter: Meter) -> RunContext:
    """A run's context on a connection authorised against the sandbox at ``url``, reporting
    its HTTP exchanges to ``meter``."""
    tokens = control(url, "tokens", {"client_id": CLIENT_ID})
    connection = MemoryConnection(
        name="bench",
        config={
            "client_id": CLIENT_ID,
            "auth_method": "oauth",
            "api_base_url": url + "/v3",
            "token_url": url + "/oauth2/default/v1/token",
            "authorize_url": url + "/oauth2/default/v1/authorize",
        },
        stored_secrets={
            "client_secret": CLIENT_SECRET,
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "expires_at": int(time.time()) + tokens["expires_in"],
        },
    )
    return RunContext(connection=connection, on_http=meter)


def timed_query(context: RunContext, config: dict[str, Any]) -> tuple[int, float, int]:
    """(records, seconds, peak traced bytes) of one full Query read."""

    def read() -> tuple[int, float]:
        started = time.perf_counter()
        records = 0
        for batch in QueryContacts().read(context, config):
            records += len(batch)  # the engine would map and write it, then drop it
        return records, time.perf_counter() - started

    (records, seconds), peak = traced_peak(read)
    return records, seconds, peak


def write_in_batches(
    activity: ActivityType,
    context: RunContext,
    config: dict[str, Any],
    rows: list[dict[str, Any]],
) -> tuple[list[RecordResult], float]:
    """(results, seconds) of writing ``rows`` in the activity's own batch size, as a run does."""
    started = time.perf_counter()
    results: list[RecordResult] = []
    batch_size = activity.batch_size(config)
    for start in range(0, len(rows), batch_size):
        results += activity.write(context, config, rows[start : start + batch_size])
    return results, time.perf_counter() - started


def settle() -> None:
    """Let the sandbox's 4/s bucket refill between phases, so each starts alike."""
    time.sleep(1.5)


def run() -> dict[str, Any]:
    with sandbox_process() as url:
        connector_config.configure(url_allow_list=(url,), http_timeout=60.0)
        reset_local_limiters()
        meter = Meter()
        context = sandbox_context(url, meter)
        page = {"page_size": 500}
        figures: dict[str, Any] = {"rate_limit_per_second": RATE}

        # Warm up imports and the connection pool outside the measurements.
        list(QueryContacts().read(context, {"max_records": 1}))
        meter.take()

        control(url, "seed", {"contacts": 2_000})
        settle()
        records, seconds, peak_small = timed_query(context, page)
        small = meter.take()
        assert records == 2_000, records

        control(url, "seed", {"contacts": 18_000})
        settle()
        records, seconds, peak_large = timed_query(context, page)
        large = meter.take()
        assert records == 20_000, records
        floor = large["calls"] / RATE
        figures["query_20000"] = {
            "records": records,
            "calls": large["calls"],
            "seconds": round(seconds, 2),
            "floor_seconds": floor,
            "floor_ratio": round(seconds / floor, 3),
            "http_429": large["http_429"],
            "peak_memory_bytes_2000": peak_small,
            "peak_memory_bytes_20000": peak_large,
            "peak_memory_ratio": round(peak_large / peak_small, 3),
            "calls_2000": small["calls"],
        }

        newsletter = stable_id("list", "Newsletter")
        create = CreateContacts()
        bulk_config = {"mode": "bulk", "list_ids": [newsletter]}
        rows = [
            {"email": f"bulk{i}@example.com", "first_name": f"Bulk{i}", "last_name": "Bench"}
            for i in range(10_000)
        ]
        settle()
        results, seconds = write_in_batches(create, context, bulk_config, rows)
        bulk = meter.take()
        assert len(results) == 10_000 and all(r.ok for r in results)
        figures["create_bulk_10000"] = {
            "records": 10_000,
            "calls": bulk["calls"],
            "import_calls": bulk["calls"] - bulk["polls"],
            "polls": bulk["polls"],
            "seconds": round(seconds, 2),
            "http_429": bulk["http_429"],
        }

        single = [
            {"email_address": {"address": f"one{i}@example.com"}, "first_name": "One"}
            for i in range(PER_RECORD_SAMPLE)
        ]
        settle()
        started = time.perf_counter()
        results = create.write(context, {"mode": "single"}, single)
        seconds = time.perf_counter() - started
        one = meter.take()
        assert all(r.ok for r in results)
        figures["create_per_record"] = {
            "measured_records": PER_RECORD_SAMPLE,
            "measured_calls": one["calls"],
            "measured_seconds": round(seconds, 2),
            "http_429": one["http_429"],
            "extrapolated_calls_10000": round(one["calls"] / PER_RECORD_SAMPLE * 10_000),
            "extrapolated_seconds_10000": round(seconds / PER_RECORD_SAMPLE * 10_000),
            "note": f"measured on {PER_RECORD_SAMPLE} contacts, extrapolated linearly",
        }

        ids = [
            {"contact_id": c["contact_id"]}
            for c in requests.get(url + "/_sandbox/contacts", timeout=60).json()["contacts"][:5_000]
        ]
        delete = DeleteContacts()
        delete_config = {"mode": "bulk"}
        settle()
        results, seconds = write_in_batches(delete, context, delete_config, ids)
        deleted = meter.take()
        assert len(results) == 5_000 and all(r.ok for r in results)
        figures["delete_bulk_5000"] = {
            "records": 5_000,
            "calls": deleted["calls"],
            "delete_calls": deleted["calls"] - deleted["polls"],
            "polls": deleted["polls"],
            "seconds": round(seconds, 2),
            "http_429": deleted["http_429"],
        }

    query = figures["query_20000"]
    figures["targets"] = {
        "query_within_1_1x_floor": query["floor_ratio"] <= 1.1,
        "query_no_429": query["http_429"] == 0,
        "bulk_10000_in_5_calls_plus_polls": figures["create_bulk_10000"]["import_calls"] <= 5,
        "memory_flat_within_10_percent": query["peak_memory_ratio"] <= 1.1,
    }
    return figures


def print_table(figures: dict[str, Any]) -> None:
    q, b = figures["query_20000"], figures["create_bulk_10000"]
    p, d = figures["create_per_record"], figures["delete_bulk_5000"]
    rows = [
        (
            "Query 20,000 contacts",
            f"{q['calls']} calls",
            f"{q['seconds']} s",
            f"floor {q['floor_seconds']:g} s, ratio {q['floor_ratio']}, 429s {q['http_429']}",
        ),
        (
            "  peak memory 2,000 / 20,000",
            "",
            "",
            f"{q['peak_memory_bytes_2000'] / 1e6:.2f} MB / {q['peak_memory_bytes_20000'] / 1e6:.2f}"
            f" MB (x{q['peak_memory_ratio']})",
        ),
        (
            "Create 10,000 (bulk)",
            f"{b['calls']} calls",
            f"{b['seconds']} s",
            f"{b['import_calls']} imports + {b['polls']} polls",
        ),
        (
            f"Create {p['measured_records']} (per record)",
            f"{p['measured_calls']} calls",
            f"{p['measured_seconds']} s",
            f"10,000 would take ~{p['extrapolated_calls_10000']} calls, "
            f"~{p['extrapolated_seconds_10000']} s (extrapolated)",
        ),
        (
            "Delete 5,000 (bulk)",
            f"{d['calls']} calls",
            f"{d['seconds']} s",
            f"{d['delete_calls']} deletes + {d['polls']} polls",
        ),
    ]
    print(f"Constant Contact connector, sandbox at {figures['rate_limit_per_second']:g} req/s")
    for name, calls, seconds, note in rows:
        print(f"  {name:<32} {calls:>11} {seconds:>10}  {note}")
    for target, met in figures["targets"].items():
        print(f"  target {target:<40} {'met' if met else 'MISSED'}")


def main() -> int:
    figures = run()
    print_table(figures)
    merge_results("constant_contact", figures)
    return 0 if all(figures["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
