"""The embedded broker hands each message to exactly one consumer, never half written."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from kombu import Connection

from designer.runs.broker import Channel
from tests.fixtures.waiting import wait_for


def _connection(folder) -> Connection:
    return Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.001,
        },
    )


def test_the_app_uses_the_atomic_transport(tmp_path):
    import designer.celery  # noqa: F401  (installs the alias)

    with _connection(tmp_path) as connection:
        assert isinstance(connection.default_channel, Channel)


def test_racing_consumer_processes_get_every_message_once(tmp_path):
    """Three consumer processes (like three workers) race for 300 messages."""
    for sub in ("queue", "processed", "control"):
        (tmp_path / sub).mkdir()
    outs = [tmp_path / f"consumer{n}.txt" for n in range(3)]
    consumers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.runs.broker_consumer", str(tmp_path), str(out)],
            cwd=settings.BASE_DIR,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "designer.settings"},
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outs
    ]
    wait_for(  # every consumer polls the empty queue before the burst
        lambda: all(out.with_suffix(".ready").exists() for out in outs),
        timeout=60,
        what="the consumers to poll",
    )
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("race")
        for n in range(300):
            queue.put({"n": n, "padding": "x" * 50_000})
    (tmp_path / "done").touch()
    for consumer in consumers:
        _, stderr = consumer.communicate(timeout=60)
        assert consumer.returncode == 0, stderr  # a half-written file kills a consumer
    got = [int(line) for out in outs if out.exists() for line in out.read_text().split()]
    assert sorted(got) == list(range(300))
    assert list((tmp_path / "queue").iterdir()) == []
