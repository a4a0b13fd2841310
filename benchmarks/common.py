"""What the benchmark modules share: merging figures into benchmarks/results.json and
measuring peak traced memory."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
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
