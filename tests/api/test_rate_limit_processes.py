"""A trigger's rate limit holds across the processes of a deployment, with no Redis: the live
server (this process) and a gunicorn process (its own memory, the same database and
connector state folder) count against one limit, through the shared store (SQLite under
CONNECTOR_STATE_DIR). So does a signed request's once-only check."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings as django_settings

from designer.api.triggers import signature_for, trigger_save
from designer.runs.models import OperationRun
from tests.runs.conftest import make_operation

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LIMIT = 4
TIMEOUT = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def second_server(worker_env, tmp_path) -> Iterator[str]:
    """The app in a gunicorn process of its own, on the test database."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {**worker_env, "API_TRIGGER_RATE_PER_MINUTE": str(LIMIT), "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "designer.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/api/v1/openapi.json", timeout=2)
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not start:\n" + log.read_text()) from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _outside_the_minute_edge() -> None:
    """The limit is a fixed one-minute window: don't let a test straddle two."""
    if int(time.time()) % 60 > 50:
        time.sleep(61 - int(time.time()) % 60)


def test_the_rate_limit_is_one_for_every_process(
    live_server, second_server, project, personas, settings
):
    settings.API_TRIGGER_RATE_PER_MINUTE = LIMIT
    operation = make_operation(project, count=1)
    _trigger, shown = trigger_save(operation=operation, mode="secret_url", user=personas["admin"])
    servers = [live_server.url, second_server]
    _outside_the_minute_edge()

    codes = [
        requests.post(servers[i % 2] + shown.url_path, json=[{"n": i}], timeout=TIMEOUT)
        for i in range(LIMIT + 2)
    ]

    assert [c.status_code for c in codes] == [202] * LIMIT + [429, 429], [c.text for c in codes]
    assert all(int(c.headers["Retry-After"]) > 0 for c in codes[LIMIT:])
    assert OperationRun.objects.filter(operation=operation).count() == LIMIT


def test_a_signed_request_is_accepted_once_whichever_process_gets_it(
    live_server, second_server, project, personas
):
    operation = make_operation(project, count=1)
    _trigger, shown = trigger_save(operation=operation, mode="hmac", user=personas["admin"])
    body = json.dumps([{"n": 1}]).encode()
    now = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Signature-Timestamp": now,
        "X-Signature": signature_for(shown.signing_secret, now, body),
    }
    first = requests.post(live_server.url + shown.url_path, data=body, headers=headers, timeout=30)
    assert first.status_code == 202, first.text
    replay = requests.post(second_server + shown.url_path, data=body, headers=headers, timeout=30)
    assert replay.status_code == 409, replay.text
    assert "already received" in replay.json()["detail"]
    assert OperationRun.objects.filter(operation=operation).count() == 1
