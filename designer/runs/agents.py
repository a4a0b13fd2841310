"""Agents are Celery workers: a heartbeat thread in each worker reports its name, queues,
app version and connector versions, and reaps runs of agents that went silent (so runs are
recovered even where no beat process runs)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import tomllib
from functools import cache
from pathlib import Path

from celery import signals
from django.conf import settings
from django.db import close_old_connections, connection

from designer.runs.agent_log import RecentLogHandler

logger = logging.getLogger(__name__)

_stop = threading.Event()
_worker: dict[str, object] = {}
_unloadable: set[str] = set()  # connectors already reported as failing to load
# The worker's own recent log lines, sent with each heartbeat (installed on worker_ready, after
# Celery has set up logging; records of prefork pool children stay in those processes).
_recent_log = RecentLogHandler()


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
        log_lines=_recent_log.lines(),
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


@signals.worker_shutdown.connect
def _on_worker_shutdown(sender=None, **kwargs) -> None:
    _stop.set()
    if "name" in _worker:
        from designer.runs.services import agent_stopped

        try:
            agent_stopped(name=str(_worker["name"]))
        except Exception:
            logger.exception("Could not mark the agent stopped")
