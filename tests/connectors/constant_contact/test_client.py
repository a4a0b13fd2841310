"""The HTTP client against the sandbox: retries, throttling, errors, URL refusal."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from typing import Any

import pytest

from connectors import config as connector_config
from connectors.base import ConnectorError
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.connector import ConstantContactConnector
from connectors.constant_contact.errors import ApiError
from connectors.constant_contact.sandbox import Sandbox
from connectors.http import RetryPolicy
from connectors.ratelimit import WindowLimiter
from connectors.sharedstate import RedisStore
from tests.connectors.constant_contact.conftest import (
    FAST_RETRY,
    LockedConnection,
    Recorder,
    make_connection,
)
from tests.fixtures.sandbox import CC_CLIENT_ID

PATIENT = RetryPolicy(max_tries=12, base_delay=0.2, max_delay=1.0, max_total_wait=20.0)


def test_5xx_is_retried_until_it_succeeds(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.inject(500, count=1)
    cc_sandbox.inject(503, count=1)
    recorder = Recorder()
    with ConstantContactClient(connection, on_http=recorder.on_http) as client:
        assert client.get_json("/contacts", params={"limit": 5})["contacts"] == []
    assert [(e.status, e.attempt) for e in recorder.exchanges] == [(500, 1), (503, 2), (200, 3)]


def test_5xx_gives_up_after_the_try_limit(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.inject(503, count=50)
    with ConstantContactClient(connection) as client, pytest.raises(ApiError) as raised:
        client.get_json("/contacts", params={"limit": 5})
    assert raised.value.permanent is False and raised.value.status == 503
    assert raised.value.key == "service_unavailable"
    assert "temporarily unavailable" in raised.value.error_message
    assert len(cc_sandbox.api_requests()) == FAST_RETRY.max_tries


def test_other_4xx_fail_at_once_with_constant_contacts_error(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    missing = str(uuid.uuid4())
    with ConstantContactClient(connection) as client, pytest.raises(ApiError) as raised:
        client.get_json(f"/contacts/{missing}")
    assert raised.value.status == 404 and raised.value.permanent
    assert raised.value.key == "contacts.api.not.found"
    assert missing in raised.value.error_message
    assert len(cc_sandbox.api_requests()) == 1


def test_timeouts_are_retried(connection: LockedConnection, cc_sandbox: Sandbox) -> None:
    connector_config.configure(http_timeout=0.3)
    cc_sandbox.inject(0, count=1, delay=1.0)  # the first call hangs past the timeout
    recorder = Recorder()
    with ConstantContactClient(connection, on_http=recorder.on_http) as client:
        client.get_json("/contacts", params={"limit": 1})
    assert recorder.exchanges[0].status is None and "Timeout" in recorder.exchanges[0].error
    assert recorder.exchanges[-1].status == 200


def test_unreachable_host_raises_a_transient_error(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once we leave: nothing listens there
    dead = f"http://127.0.0.1:{port}"
    connector_config.configure(url_allow_list=(cc_sandbox.url, dead))
    connection = make_connection(cc_sandbox, cc_tokens, api_base_url=dead + "/v3")
    with ConstantContactClient(connection) as client, pytest.raises(ConnectorError) as raised:
        client.get_json("/contacts")
    assert raised.value.key == "unreachable" and raised.value.permanent is False


def test_429_backs_off_and_every_call_succeeds(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    cc_sandbox.configure(rate_limit=4)
    connection = make_connection(cc_sandbox, cc_tokens)
    results: list[Any] = []

    def burst() -> None:
        with ConstantContactClient(connection, retry=PATIENT) as client:
            for _ in range(3):
                results.append(client.get_json("/contacts", params={"limit": 1}))

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = [r.status for r in cc_sandbox.api_requests()]
    assert len(results) == 12 and all(r == {"contacts": []} for r in results)
    assert statuses.count(429) > 0  # the burst was throttled...
    assert statuses.count(200) == 12  # ...and every call got through in the end


@pytest.mark.real_pace
def test_the_shared_limiter_keeps_under_four_per_second(
    cc_sandbox: Sandbox, cc_tokens: dict
) -> None:
    cc_sandbox.configure(rate_limit=4, sliding_window=True)
    connection = make_connection(cc_sandbox, cc_tokens)
    started = time.monotonic()

    def worker() -> None:
        with ConstantContactClient(connection) as client:  # separate clients, one API key
            for _ in range(3):
                client.get_json("/contacts", params={"limit": 1})

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    statuses = [r.status for r in cc_sandbox.api_requests()]
    assert statuses == [200] * 9  # paced, not punished
    assert cc_sandbox.rate_measured()["keys"][CC_CLIENT_ID]["max_in_any_second"] <= 4
    assert 8 / 4 <= elapsed < 8 / 4 * 1.5  # 9 calls: the 5th and 9th a window after the 1st, 5th


def test_daily_quota_is_not_retried(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    cc_sandbox.configure(daily_quota=2)
    connection = make_connection(cc_sandbox, cc_tokens)
    with ConstantContactClient(connection) as client:
        client.get_json("/contacts")
        client.get_json("/contacts")
        with pytest.raises(ApiError) as raised:
            client.get_json("/contacts")
    assert raised.value.key == "quota_exceeded" and raised.value.status == 429
    # It resets at 00:00 UTC: no later call of the run can succeed, so the run must stop.
    assert raised.value.permanent
    assert len(cc_sandbox.api_requests()) == 3


def test_urls_off_the_allow_list_are_refused(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    connector = ConstantContactConnector()
    good = make_connection(cc_sandbox, cc_tokens)
    assert connector.validate_connection(good.config) == {}
    assert connector.validate_connection({"client_id": "abc"}) == {}  # the defaults
    for field in ("api_base_url", "authorize_url", "token_url"):
        for url in (
            "http://169.254.169.254/latest",
            "https://api.cc.email.evil.test/v3",
            "file:///etc/passwd",
            f"{cc_sandbox.url}@evil.test/v3",
        ):
            bad = make_connection(cc_sandbox, cc_tokens, **{field: url})
            assert field in connector.validate_connection(bad.config), (field, url)
    evil = make_connection(cc_sandbox, cc_tokens, api_base_url="http://10.0.0.1/v3")
    with pytest.raises(ConnectorError) as raised:
        ConstantContactClient(evil)
    assert raised.value.key == "url_not_allowed"
    assert connector.validate_connection({"auth_method": "oauth"})["client_id"]
    with ConstantContactClient(good) as client, pytest.raises(ConnectorError) as raised:
        client.url("https://evil.test/v3/contacts?cursor=abc")  # a link to elsewhere
    assert raised.value.key == "foreign_link"
    assert cc_sandbox.api_requests() == []


@pytest.mark.real_pace
def test_workers_share_one_redis_window(
    cc_sandbox: Sandbox, cc_tokens: dict, redis_url: str
) -> None:
    cc_sandbox.configure(rate_limit=4, sliding_window=True)
    connector_config.configure(redis_url=redis_url)
    connection = make_connection(cc_sandbox, cc_tokens)
    started = time.monotonic()

    def worker() -> None:
        # Each client gets its own limiter: only Redis connects them.
        with ConstantContactClient(connection) as client:
            assert isinstance(client.limiter, WindowLimiter)
            assert isinstance(client.limiter.store, RedisStore)
            for _ in range(4):
                client.get_json("/contacts", params={"limit": 1})

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert [r.status for r in cc_sandbox.api_requests()] == [200] * 8
    assert cc_sandbox.rate_measured()["keys"][CC_CLIENT_ID]["max_in_any_second"] <= 4
    assert elapsed >= 1.0  # 8 calls: the second four a full window after the first
