"""Agents are Celery workers: a heartbeat thread in each worker reports its name, queues,
app version and connector versions, and reaps runs of agents that went silent (so runs are
recovered even where no beat process runs)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from celery import signals
from django.conf import settings
from django.db import close_old_connections, connection

from designer.runs.agent_log import (
    RecentLogHandler,
    pool_file,
    pool_folder,
    pool_tail,
    remove_pool_folder,
)

logger = logging.getLogger(__name__)

_stop = threading.Event()
_worker: dict[str, object] = {}
_unloadable: set[str] = set()  # connectors already reported as failing to load
# The worker's recent log lines, sent with each heartbeat: the main process's own (installed on
# worker_ready, after Celery has set up logging) and its prefork pool processes', which each
# keep theirs in a file of ``_pool_log`` (see agent_log.py).
_recent_log = RecentLogHandler()


@dataclass
class _PoolLog:
    folder: Path | None = None  # where pool processes keep their tails (set on worker_init)
    main_pid: int | None = None


_pool_log = _PoolLog()


@cache
def app_version() -> str:
    if os.environ.get("APP_VERSION"):
        return os.environ["APP_VERSION"]
    try:
        data = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text())
        return str(data["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def connector_versions() -> dict[str, str]:
    from connectors.registry import CONNECTORS, get_connector

    versions: dict[str, str] = {}
    for key in sorted(CONNECTORS):
        try:
            versions[key] = get_connector(key).version
        except Exception:  # a connector that can't load is simply not carried
            if key not in _unloadable:
                _unloadable.add(key)
                logger.exception("Connector %s could not be loaded", key)
    return versions


def beat_once(*, starting: bool = False) -> None:
    from designer.runs.services import agent_heartbeat, runs_reap_lost

    agent_heartbeat(
        name=str(_worker["name"]),
        hostname=socket.gethostname(),
        pid=os.getpid(),
        queues=list(_worker.get("queues", [])),  # type: ignore[arg-type]
        app_version=app_version(),
        connector_versions=connector_versions(),
        starting=starting,
        log_lines=pool_tail(_recent_log, _pool_log.folder),
    )
    runs_reap_lost()


def _loop() -> None:
    interval = settings.RUNS_HEARTBEAT_SECONDS
    first = True
    while not _stop.is_set():
        try:
            close_old_connections()
            beat_once(starting=first)
            first = False
        except Exception:
            logger.exception("Heartbeat failed")
            connection.close()
        _stop.wait(interval)
    connection.close()


@signals.worker_ready.connect
def _on_worker_ready(sender=None, **kwargs) -> None:
    _worker["name"] = sender.hostname
    try:
        _worker["queues"] = sorted(q.name for q in sender.task_consumer.queues)
    except AttributeError:
        _worker["queues"] = sorted(sender.app.amqp.queues.consume_from)
    root = logging.getLogger()
    if _recent_log not in root.handlers:
        root.addHandler(_recent_log)
    _stop.clear()
    threading.Thread(target=_loop, name="agent-heartbeat", daemon=True).start()


@signals.worker_init.connect
def _on_worker_init(sender=None, **kwargs) -> None:
    # In the main process, before the pool starts: its processes inherit the folder.
    try:
        _pool_log.folder, _pool_log.main_pid = pool_folder(), os.getpid()
    except OSError:
        logger.exception("No folder for the pool processes' log lines; only this one's are sent")


@signals.worker_process_init.connect
def _on_worker_process_init(sender=None, **kwargs) -> None:
    # Sent in each prefork pool process after its fork, and in the main process by the solo
    # pool (which keeps its lines in memory, as the main process does).
    if _pool_log.folder is None or os.getpid() == _pool_log.main_pid:
        return
    _recent_log.share_to(pool_file(_pool_log.folder, os.getpid()))
    root = logging.getLogger()
    if _recent_log not in root.handlers:
        root.addHandler(_recent_log)


@signals.worker_process_shutdown.connect
def _on_worker_process_shutdown(sender=None, **kwargs) -> None:
    # The pool process's last lines, before it exits (its writer thread may not get to them).
    with contextlib.suppress(OSError):
        _recent_log.save()


@signals.worker_shutdown.connect
def _on_worker_shutdown(sender=None, **kwargs) -> None:
    _stop.set()
    if "name" in _worker:
        from designer.runs.services import agent_stopped

        try:
            agent_stopped(name=str(_worker["name"]))
        except Exception:
            logger.exception("Could not mark the agent stopped")
    if os.getpid() == _pool_log.main_pid:
        remove_pool_folder(_pool_log.folder)
        _pool_log.folder = None
