"""Issue 17.5: one rate limit per API key across worker PROCESSES, with or without Redis.

Real processes (not threads) share only the state folder (SQLite) or Redis; the sandbox
throttles strictly (at most 4 calls in any sliding second of arrivals) and measures every
second, so a fifth call in any second shows, whatever the network jitter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from connectors import config as connector_config
from connectors.constant_contact.client import ConstantContactClient, calls_today
from connectors.constant_contact.sandbox import Sandbox
from tests.connectors.constant_contact.conftest import make_connection
from tests.fixtures.sandbox import CC_CLIENT_ID

ROOT = Path(__file__).resolve().parents[3]
WORKER = "benchmarks._cc_pacing_worker"  # the benchmark's own worker
PROCESSES, THREADS, CALLS = 3, 2, 4  # 24 calls: 6 s at 4 per second


def run_workers(sandbox: Sandbox, tokens: dict[str, Any], **shared: str) -> list[dict]:
    connection = make_connection(sandbox, tokens)
    job = {
        "sandbox_url": sandbox.url,
        "config": dict(connection.config),
        "secrets": connection.stored_secrets,
        "threads": THREADS,
        "calls": CALLS,
        "start_at": time.time() + 2.0,  # after every interpreter has started
        **shared,
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", WORKER, json.dumps(job)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def assert_paced(sandbox: Sandbox, results: list[dict]) -> None:
    calls = PROCESSES * THREADS * CALLS
    assert sum(r["statuses"].get("200", 0) for r in results) == calls
    measured = sandbox.rate_measured()["keys"][CC_CLIENT_ID]
    assert measured["http_429"] == 0, measured
    assert measured["calls"] == calls
    assert measured["max_in_any_second"] <= 4, measured
    # 24 calls at 4 per second span at least 5 s (the ratio to the floor is benchmarked).
    assert measured["seconds"] >= 5.0, measured


def test_processes_share_one_limit_through_the_state_folder(
    cc_sandbox: Sandbox, cc_tokens: dict, tmp_path: Path
) -> None:
    cc_sandbox.configure(rate_limit=4, sliding_window=True)
    results = run_workers(cc_sandbox, cc_tokens, state_dir=str(tmp_path))
    assert_paced(cc_sandbox, results)
    assert (tmp_path / "limits.sqlite3").exists()
    # Issue 17.7: every process counted its calls in the same place.
    connector_config.configure(state_dir=str(tmp_path))
    calls = PROCESSES * THREADS * CALLS
    assert calls_today(make_connection(cc_sandbox, cc_tokens).config) == (calls, 10_000)


def test_processes_share_one_limit_through_redis(
    cc_sandbox: Sandbox, cc_tokens: dict, redis_url: str, tmp_path: Path
) -> None:
    cc_sandbox.configure(rate_limit=4, sliding_window=True)
    # A state folder too: Redis, when configured, wins (the folder stays unused).
    results = run_workers(cc_sandbox, cc_tokens, redis_url=redis_url, state_dir=str(tmp_path))
    assert_paced(cc_sandbox, results)
    assert not (tmp_path / "limits.sqlite3").exists()


@pytest.mark.real_pace
def test_a_late_answer_keeps_the_next_calls_out_of_its_second(
    cc_sandbox: Sandbox, cc_tokens: dict
) -> None:
    """The jitter case: a call that arrives late (slow network) must not share a second with
    the fifth call after it. The window is counted from each answer, so it cannot."""
    cc_sandbox.configure(rate_limit=4, sliding_window=True)
    cc_sandbox.inject(0, count=1, delay=0.6)  # the first call is held 0.6 s in transit
    connection = make_connection(cc_sandbox, cc_tokens)

    def worker() -> None:
        with ConstantContactClient(connection) as client:
            for _ in range(3):
                client.get_json("/contacts", params={"limit": 1})

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    measured = cc_sandbox.rate_measured()["keys"][CC_CLIENT_ID]
    assert measured == {**measured, "calls": 9, "http_429": 0}
    assert measured["max_in_any_second"] <= 4
