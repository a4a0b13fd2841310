"""Fixtures for the Constant Contact connector tests: real HTTP against the sandbox.

Every test here runs against the session's sandbox (``cc_sandbox``, reset per test), and
after each test every API request the connector sent is re-validated against the official
contract (``contract.validate_request``): a connector that drifts from the contract fails
whichever test made it drift.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from connectors import config as connector_config
from connectors.base import HttpExchange, MemoryConnection, RunContext
from connectors.constant_contact import client as client_module
from connectors.constant_contact.contract import validate_request
from connectors.constant_contact.sandbox import Sandbox
from connectors.http import RetryPolicy
from connectors.ratelimit import LocalTokenBucket, reset_local_limiters
from tests.fixtures.sandbox import CC_CLIENT_ID, CC_CLIENT_SECRET

FAST_RETRY = RetryPolicy(max_tries=4, base_delay=0.02, max_delay=0.1, max_total_wait=2.0)


@dataclass
class LockedConnection(MemoryConnection):
    """MemoryConnection whose update_secrets holds a lock, like the app's row lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)

    def update_secrets(self, mutate: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict:
        with self.lock:
            return super().update_secrets(mutate)


@pytest.fixture(autouse=True)
def _connector_settings(cc_sandbox: Sandbox) -> Iterator[None]:
    before = connector_config.connector_settings()
    # state_dir="": slots and daily counts in this process, forgotten before each test.
    connector_config.configure(
        url_allow_list=(cc_sandbox.url,), http_timeout=5.0, redis_url="", state_dir=""
    )
    reset_local_limiters()
    yield
    connector_config.configure(
        url_allow_list=before.url_allow_list,
        http_timeout=before.http_timeout,
        redis_url=before.redis_url,
        state_dir=before.state_dir,
    )


@pytest.fixture(autouse=True)
def _fast_client(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Tests don't wait for Constant Contact's real pace unless they ask (``real_pace``)."""
    monkeypatch.setattr(client_module, "DEFAULT_RETRY", FAST_RETRY)
    if "real_pace" not in request.keywords:
        monkeypatch.setattr(
            client_module, "rate_limiter_for", lambda client_id: LocalTokenBucket(rate=2000)
        )


def contract_problems(sandbox: Sandbox) -> list[str]:
    """Every way the API requests in the sandbox's log break the official contract."""
    problems = []
    for logged in sandbox.api_requests():
        for problem in validate_request(
            logged.method, logged.path, logged.query, logged.json, logged.content_type
        ):
            problems.append(f"{logged.method} {logged.path}: {problem}")
    return problems


@pytest.fixture(autouse=True)
def _requests_follow_the_contract(cc_sandbox: Sandbox) -> Iterator[None]:
    yield
    problems = contract_problems(cc_sandbox)
    assert not problems, "requests that break the contract:\n" + "\n".join(problems)


def make_connection(
    sandbox: Sandbox, tokens: dict[str, Any] | None, **config: Any
) -> LockedConnection:
    secrets: dict[str, Any] = {"client_secret": CC_CLIENT_SECRET}
    if tokens:
        secrets.update(
            access_token=tokens["access_token"],
            refresh_token=tokens.get("refresh_token", ""),
            expires_at=int(time.time() + tokens["expires_in"]),
        )
    return LockedConnection(
        name="cc",
        config={
            "client_id": CC_CLIENT_ID,
            "auth_method": "oauth",
            "api_base_url": sandbox.api_base_url,
            "authorize_url": sandbox.authorize_url,
            "token_url": sandbox.token_url,
            **config,
        },
        stored_secrets=secrets,
    )


@pytest.fixture
def connection(cc_sandbox: Sandbox, cc_tokens: dict[str, Any]) -> LockedConnection:
    return make_connection(cc_sandbox, cc_tokens)


@dataclass
class Recorder:
    exchanges: list[HttpExchange] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)

    def on_http(self, exchange: HttpExchange) -> None:
        self.exchanges.append(exchange)

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def context(connection: LockedConnection, recorder: Recorder) -> RunContext:
    return RunContext(connection=connection, log=recorder.log, on_http=recorder.on_http)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=5)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_pace: use the connector's real 4/s rate limiter")
