"""One worker process of the cross-process pacing benchmark (benchmarks.cc_rate) and tests
(tests/connectors/constant_contact/test_pacing_processes.py): ``threads`` threads, each
making ``calls`` GET /contacts calls through its own ConstantContactClient, all on one API
key, paced only by what the processes share (the state folder or Redis) - as Celery workers
with a concurrency of ``threads`` would be.

    python -m benchmarks._cc_pacing_worker '<json job>'

Prints one JSON line: {"statuses": {...}, "calls": n, "started": t, "ended": t}.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from typing import Any

from connectors import config as connector_config
from connectors.base import HttpExchange, MemoryConnection
from connectors.constant_contact.client import ConstantContactClient


def run(job: dict[str, Any]) -> dict[str, Any]:
    connector_config.configure(
        url_allow_list=(job["sandbox_url"],),
        state_dir=job.get("state_dir", ""),
        redis_url=job.get("redis_url", ""),
        http_timeout=30.0,
    )
    connection = MemoryConnection(
        name="pacing", config=job["config"], stored_secrets=job["secrets"]
    )
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def on_http(exchange: HttpExchange) -> None:
        with lock:
            statuses[str(exchange.status)] += 1

    def thread() -> None:
        with ConstantContactClient(connection, on_http=on_http) as client:
            for _ in range(job["calls"]):
                client.get_json("/contacts", params={"limit": 1})

    # Start together, so the processes really compete for the same seconds.
    time.sleep(max(0.0, job.get("start_at", 0) - time.time()))
    started = time.time()
    threads = [threading.Thread(target=thread) for _ in range(job["threads"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "statuses": dict(statuses),
        "calls": sum(statuses.values()),
        "started": started,
        "ended": time.time(),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))), flush=True)
