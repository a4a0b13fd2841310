"""The run's own heartbeat: a thread beside the engine keeps ``heartbeat_at`` fresh while this
process executes the run, so a long batch doesn't look like a lost agent, and a dead process
(its thread gone with it) does."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)


class Heartbeat:
    """``with Heartbeat(beat, run_id): ...`` calls ``beat()`` every RUNS_HEARTBEAT_SECONDS
    from its own thread (with its own database connection) until the block ends."""

    def __init__(self, beat: Callable[[], object], run_id: int) -> None:
        self._beat = beat
        self._run_id = run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"run-{run_id}-beat")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(settings.RUNS_HEARTBEAT_SECONDS):
                try:
                    self._beat()
                except DatabaseError:  # a blip: reconnect on the next beat
                    logger.warning("Run %s heartbeat failed", self._run_id, exc_info=True)
                    connections.close_all()
        finally:
            connections.close_all()  # this thread's own connection
