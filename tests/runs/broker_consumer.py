"""A consumer process for tests/runs/test_broker.py: takes messages off the embedded broker's
queue "race" and appends their numbers to a file, until the producer's ``done`` file exists
and the queue stays empty for a moment. ``<out>.ready`` says it is connected and polling."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from queue import Empty

import designer.celery  # noqa: F401  (installs the atomic transport, as in the app)
from tests.runs.test_broker import _connection


def main(folder: Path, out: Path) -> None:
    idle_since = None
    with _connection(folder) as connection, out.open("a") as handle:
        queue = connection.SimpleQueue("race")
        ready = out.with_suffix(".ready")
        while True:
            try:
                message = queue.get(timeout=0.05)
            except Empty:
                ready.touch()
                if (folder / "done").exists():
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > 1.0:
                        return
                continue
            idle_since = None
            handle.write(f"{message.payload['n']}\n")
            handle.flush()
            message.ack()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
