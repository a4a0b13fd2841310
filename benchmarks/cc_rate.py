"""Constant Contact's 4 calls per second per API key, held across worker processes.

    .venv/bin/python -m benchmarks.cc_rate [--calls-per-thread 250]

Two worker processes x two threads each (Celery's default embedded deployment: 2 workers,
concurrency 2) make 2,000 GET /contacts calls on ONE API key through the connector's client,
against a sandbox in its own process that throttles strictly (at most 4 calls in any sliding
second of arrivals) and measures every second. Once with the embedded store (a SQLite file
in a state folder, no server) and once with Redis (skipped when redis-server is missing).

Per configuration: calls, seconds, the floor (calls / 4 s) and the ratio to it, 429s and the
most calls the sandbox saw in any sliding second. Targets: 0 x 429, at most 4 in any second,
ratio <= 1.10. Merged into benchmarks/results.json under "constant_contact_rate".
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from benchmarks.common import merge_results
from benchmarks.constant_contact import ROOT, _free_port

CLIENT_ID, CLIENT_SECRET = "rate-client", "rate-secret"
RATE = 4
WORKERS, THREADS = 2, 2
CALLS_PER_THREAD = 500  # 2 x 2 x 500 = 2,000 calls: ~8.5 minutes at 4 per second
WORKER = "benchmarks._cc_pacing_worker"


@contextmanager
def strict_sandbox() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "connectors.constant_contact.sandbox", "--port", str(port)),
            *("--seed", "0", "--rate-limit", str(RATE), "--sliding-window", "--daily-quota", "0"),
            *("--app", f"{CLIENT_ID}:{CLIENT_SECRET}"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: requests.get(url + "/_sandbox/stats", timeout=1).ok)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def redis_server() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        _wait_until(lambda: client.ping())
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until(ready: Any) -> None:
    for _ in range(200):
        try:
            if ready():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.05)
    raise RuntimeError("a helper process did not start")


def measure(url: str, calls_per_thread: int, **shared: str) -> dict[str, Any]:
    """One configuration: WORKERS processes x THREADS threads on one API key."""
    tokens = requests.post(
        url + "/_sandbox/tokens", json={"client_id": CLIENT_ID}, timeout=10
    ).json()
    job = {
        "sandbox_url": url,
        "config": {
            "client_id": CLIENT_ID,
            "auth_method": "oauth",
            "api_base_url": url + "/v3",
            "token_url": url + "/oauth2/default/v1/token",
            "authorize_url": url + "/oauth2/default/v1/authorize",
        },
        "secrets": {
            "client_secret": CLIENT_SECRET,
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "expires_at": int(time.time()) + tokens["expires_in"],
        },
        "threads": THREADS,
        "calls": calls_per_thread,
        "start_at": time.time() + 3.0,
        **shared,
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", WORKER, json.dumps(job)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"a worker failed ({process.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    measured = requests.get(url + "/_sandbox/rate", timeout=10).json()["keys"][CLIENT_ID]
    calls = sum(r["calls"] for r in results)
    seconds = max(r["ended"] for r in results) - min(r["started"] for r in results)
    floor = calls / RATE
    return {
        "workers": WORKERS,
        "threads_per_worker": THREADS,
        "calls": calls,
        "calls_at_sandbox": measured["calls"],
        "seconds": round(seconds, 2),
        "floor_seconds": floor,
        "floor_ratio": round(seconds / floor, 3),
        "http_429": measured["http_429"],
        "max_calls_in_any_second": measured["max_in_any_second"],
    }


def run(calls_per_thread: int = CALLS_PER_THREAD) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "rate_limit_per_second": RATE,
        "sandbox": "strict: at most 4 calls in any sliding second of arrivals",
    }
    with tempfile.TemporaryDirectory(prefix="cc-rate-") as state_dir:
        with strict_sandbox() as url:
            figures["embedded"] = measure(url, calls_per_thread, state_dir=state_dir)
        with redis_server() as redis_url, strict_sandbox() as url:
            if redis_url is None:
                figures["redis"] = {"skipped": "redis-server is not installed"}
            else:
                figures["redis"] = measure(url, calls_per_thread, redis_url=redis_url)
    measured = [f for f in (figures["embedded"], figures["redis"]) if "calls" in f]
    figures["targets"] = {
        "no_429": all(f["http_429"] == 0 for f in measured),
        "at_most_4_in_any_second": all(f["max_calls_in_any_second"] <= RATE for f in measured),
        "within_1_10x_floor": all(f["floor_ratio"] <= 1.10 for f in measured),
    }
    return figures


def print_table(figures: dict[str, Any]) -> None:
    print(
        f"Constant Contact pacing: {WORKERS} workers x {THREADS} threads on one API key, "
        f"sandbox at {figures['rate_limit_per_second']} calls in any sliding second"
    )
    for name in ("embedded", "redis"):
        f = figures[name]
        if "calls" not in f:
            print(f"  {name:<9} {f.get('skipped', '')}")
            continue
        print(
            f"  {name:<9} {f['calls']:>6} calls {f['seconds']:>9} s  floor {f['floor_seconds']:g} s"
            f"  ratio {f['floor_ratio']}  429s {f['http_429']}"
            f"  max {f['max_calls_in_any_second']} in any second"
        )
    for target, met in figures["targets"].items():
        print(f"  target {target:<28} {'met' if met else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cc_rate")
    parser.add_argument("--calls-per-thread", type=int, default=CALLS_PER_THREAD)
    args = parser.parse_args(argv)
    figures = run(args.calls_per_thread)
    print_table(figures)
    if args.calls_per_thread == CALLS_PER_THREAD:  # only full runs are the recorded figures
        merge_results("constant_contact_rate", figures)
    return 0 if all(figures["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
