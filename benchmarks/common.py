"""What the benchmark modules share: merging figures into benchmarks/results.json,
measuring peak traced memory, and running a benchmark's measuring part in a child process."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"
LOCK = HERE / "results-lock.tmp"

T = TypeVar("T")


def merge_results(key: str, figures: dict[str, Any]) -> None:
    """Store ``figures`` (stamped with measured_at) under ``key`` in results.json.

    Read-modify-write under a file lock, then an atomic replace: benchmarks may run at once
    and each owns only its own key."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        except ValueError:
            current = {}
        current[key] = {
            **figures,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        fd, tmp = tempfile.mkstemp(dir=RESULTS.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(current, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(tmp, RESULTS)


def traced_peak(work: Callable[[], T]) -> tuple[T, int]:
    """(what ``work()`` returned, peak traced Python memory in bytes while it ran)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def child_env(tmp: str, **settings: str) -> dict[str, str]:
    """The environment of a benchmark's child process: its own SQLite database and
    filesystem broker in ``tmp``, the bench connector, quiet logs; ``settings`` add to it."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "designer.settings",
        "VAR_DIR": tmp,
        "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_DIR": f"{tmp}/broker",
        "EXTRA_CONNECTORS": "bench=benchmarks.engine.BenchConnector",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **settings,
    }


def run_child(module: str, env: dict[str, str], *, timeout: float) -> Any:
    """Run ``python -m <module> --child`` (settings are read once, at start, hence a child);
    its last line of output is its figures, as JSON."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--child"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise SystemExit(f"{module} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])
