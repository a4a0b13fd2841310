"""OAuth2 against the sandbox: PKCE, refresh before expiry and on 401, rotation, races."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.base import NeedsReconnect, RunContext
from connectors.constant_contact.auth import refresh_margin
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.connector import ConstantContactConnector
from connectors.constant_contact.sandbox import Sandbox
from tests.connectors.constant_contact.conftest import LockedConnection, Recorder, make_connection
from tests.fixtures.sandbox import CC_CLIENT_ID, CC_CLIENT_SECRET

CONNECTOR = ConstantContactConnector()
REDIRECT = "http://127.0.0.1:9999/oauth/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_authorization_url_carries_pkce_and_scopes(cc_sandbox: Sandbox) -> None:
    connection = make_connection(cc_sandbox, None)
    url = CONNECTOR.authorization_url(
        connection, redirect_uri=REDIRECT, state="st4te", code_challenge="c" * 43
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == cc_sandbox.authorize_url
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": CC_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "contact_data campaign_data account_read offline_access",
        "state": "st4te",
        "code_challenge": "c" * 43,
        "code_challenge_method": "S256",
    }


def test_full_authorization_code_flow_stores_tokens(cc_sandbox: Sandbox) -> None:
    connection = make_connection(cc_sandbox, None)
    verifier, challenge = pkce_pair()
    url = CONNECTOR.authorization_url(
        connection, redirect_uri=REDIRECT, state="xyz", code_challenge=challenge
    )
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code in (302, 303)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    CONNECTOR.complete_authorization(
        connection, code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    stored = connection.secrets()
    assert stored["access_token"] and stored["refresh_token"]
    assert stored["expires_at"] > time.time() + 3600
    assert stored["client_secret"] == CC_CLIENT_SECRET  # kept
    token_call = [r for r in cc_sandbox.requests if r.path.endswith("/token")][-1]
    assert token_call.method == "POST"
    assert CONNECTOR.test(connection).ok


def test_wrong_verifier_is_refused(cc_sandbox: Sandbox) -> None:
    connection = make_connection(cc_sandbox, None)
    _verifier, challenge = pkce_pair()
    url = CONNECTOR.authorization_url(
        connection, redirect_uri=REDIRECT, state="xyz", code_challenge=challenge
    )
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    with pytest.raises(Exception) as raised:
        CONNECTOR.complete_authorization(
            connection, code=code, redirect_uri=REDIRECT, code_verifier="x" * 50
        )
    assert "access_token" not in connection.secrets()
    assert "x" * 50 not in str(raised.value)


def test_refreshes_before_expiry_and_saves_rotated_token(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any]
) -> None:
    connection = make_connection(cc_sandbox, cc_tokens)
    connection.stored_secrets["expires_at"] = int(time.time()) + 60  # inside the 5 min margin
    with ConstantContactClient(connection) as client:
        client.get_json("/contacts", params={"limit": 1})
        assert client.tokens.refreshes == 1
    stored = connection.secrets()
    assert stored["access_token"] != cc_tokens["access_token"]
    assert stored["refresh_token"] != cc_tokens["refresh_token"]  # rotated and saved
    assert stored["expires_at"] > time.time() + 3600
    statuses = [r.status for r in cc_sandbox.api_requests()]
    assert statuses == [200]  # no call went out with the dying token


def test_refreshes_once_on_401_then_retries(cc_sandbox: Sandbox, cc_tokens: dict[str, Any]) -> None:
    connection = make_connection(cc_sandbox, cc_tokens)
    cc_sandbox.expire_access_tokens()  # expired server-side although expires_at says fine
    with ConstantContactClient(connection) as client:
        page = client.get_json("/contacts", params={"limit": 1})
        assert page["contacts"] == []
        assert client.tokens.refreshes == 1
    assert [r.status for r in cc_sandbox.api_requests()] == [401, 200]


def test_short_token_lifetime_keeps_working(cc_sandbox: Sandbox) -> None:
    cc_sandbox.configure(token_lifetime=2)
    tokens = cc_sandbox.issue_tokens(CC_CLIENT_ID)
    connection = make_connection(cc_sandbox, tokens)
    with ConstantContactClient(connection) as client:
        for _ in range(3):
            client.get_json("/contacts", params={"limit": 1})
    # The first call refreshed (no lifetime known yet: the 5 min margin); then the margin is
    # 10% of the 2 s lifetime, and a token that dies anyway earns one 401 and one refresh.
    assert all(r.status in (200, 401) for r in cc_sandbox.api_requests())
    assert [r.status for r in cc_sandbox.api_requests()][-1] == 200


def test_a_short_lived_token_is_refreshed_once_per_lifetime_not_before_every_call(
    cc_sandbox: Sandbox,
) -> None:
    """Issue 17.6: with a fixed 300 s margin a 2-minute token was refreshed before every
    call. The margin is now a share of the token's own lifetime."""
    cc_sandbox.configure(token_lifetime=120)
    connection = make_connection(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID))
    connection.stored_secrets["expires_at"] = int(time.time()) - 1  # due: the first call refreshes
    with ConstantContactClient(connection) as client:
        for _ in range(5):
            client.get_json("/contacts", params={"limit": 1})
        assert client.tokens.refreshes == 1
    assert connection.secrets()["token_lifetime"] == 120
    assert [r.status for r in cc_sandbox.api_requests()] == [200] * 5


@pytest.mark.parametrize(
    ("secrets", "margin"),
    [
        ({"token_lifetime": 86_400}, 300),  # a day-long token: the 5 minute cap
        ({"token_lifetime": 120}, 12),  # 10% of a short one
        ({}, 300),  # lifetime unknown (stored before it was recorded): the cap
        ({"token_lifetime": "junk"}, 300),
    ],
)
def test_refresh_margin_is_a_share_of_the_lifetime(secrets: dict, margin: float) -> None:
    assert refresh_margin(secrets) == margin


def test_uses_tokens_another_worker_already_rotated(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any]
) -> None:
    connection = make_connection(cc_sandbox, cc_tokens)
    with ConstantContactClient(connection) as client:
        stale = client.tokens.access_token()
        # Another worker refreshes meanwhile and stores its rotated pair.
        other = requests.post(
            cc_sandbox.token_url,
            data={"grant_type": "refresh_token", "refresh_token": cc_tokens["refresh_token"]},
            auth=(CC_CLIENT_ID, CC_CLIENT_SECRET),
            timeout=5,
        ).json()
        connection.stored_secrets.update(
            access_token=other["access_token"], refresh_token=other["refresh_token"]
        )
        fresh = client.tokens.refresh(stale_access_token=stale)
    assert fresh == other["access_token"]
    assert client.tokens.refreshes == 0  # did not spend the (now used) refresh token
    assert connection.reconnect_message == ""


def test_racing_refreshes_refresh_once_and_keep_the_rotated_token(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any]
) -> None:
    connection = make_connection(cc_sandbox, cc_tokens)
    cc_sandbox.expire_access_tokens()
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            with ConstantContactClient(connection) as client:
                barrier.wait()
                client.get_json("/contacts", params={"limit": 1})
        except BaseException as exc:  # collected, asserted below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    token_calls = [r for r in cc_sandbox.requests if r.path.endswith("/token")]
    assert len(token_calls) == 1  # one refresh for six workers
    assert connection.reconnect_message == ""
    # The stored refresh token is the live one: it still works.
    with ConstantContactClient(connection) as client:
        client.tokens.refresh(stale_access_token=connection.secrets()["access_token"] + "x")


def test_invalid_grant_marks_needs_reconnect(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any]
) -> None:
    connection = make_connection(cc_sandbox, cc_tokens)
    cc_sandbox.expire_access_tokens()
    cc_sandbox.revoke_refresh_token(cc_tokens["refresh_token"])
    with ConstantContactClient(connection) as client, pytest.raises(NeedsReconnect) as raised:
        client.get_json("/contacts", params={"limit": 1})
    assert raised.value.permanent and raised.value.key == "invalid_grant"
    assert "reconnect" in raised.value.message.lower() or "connect" in raised.value.message
    assert connection.reconnect_message == raised.value.message
    assert cc_tokens["refresh_token"] not in raised.value.message


def test_secrets_never_reach_logged_exchanges(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any]
) -> None:
    connection = make_connection(cc_sandbox, cc_tokens)
    connection.stored_secrets["expires_at"] = int(time.time())  # force a refresh
    cc_sandbox.seed_contacts(3)
    recorder = Recorder()
    context = RunContext(connection=connection, debug=True, on_http=recorder.on_http)
    with ConstantContactClient.for_run(context) as client:
        client.get_json("/contacts", params={"limit": 2})
        client.send_json(
            "POST",
            "/contacts",
            {
                "email_address": {"address": "new@example.com"},
                "create_source": "Account",
            },
        )
    logged = json.dumps([e.__dict__ for e in recorder.exchanges], default=str)
    assert recorder.exchanges and any(e.url.endswith("/token") for e in recorder.exchanges)
    assert any(e.response_body for e in recorder.exchanges)  # debug bodies are there
    for value in (
        cc_tokens["access_token"],
        cc_tokens["refresh_token"],
        CC_CLIENT_SECRET,
        *(connection.secrets()[k] for k in ("access_token", "refresh_token")),
    ):
        assert value not in logged
    assert "new@example.com" in logged  # data is kept; only secrets go


def test_bodies_are_left_out_without_debug(context: RunContext, recorder: Recorder) -> None:
    with ConstantContactClient.for_run(context) as client:
        client.get_json("/contacts", params={"limit": 1})
    (exchange,) = recorder.exchanges
    assert exchange.status == 200 and exchange.method == "GET" and exchange.attempt == 1
    assert exchange.request_body is None and exchange.response_body is None
    assert exchange.duration_ms > 0 and "/v3/contacts?limit=1" in exchange.url


def test_pasted_token_without_refresh_token_fails_cleanly(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any]
) -> None:
    connection = make_connection(cc_sandbox, cc_tokens, auth_method="token")
    connection.stored_secrets.pop("refresh_token")
    connection.stored_secrets.pop("expires_at")
    with ConstantContactClient(connection) as client:
        assert client.get_json("/contacts", params={"limit": 1})["contacts"] == []
        cc_sandbox.expire_access_tokens()
        with pytest.raises(Exception) as raised:
            client.get_json("/contacts", params={"limit": 1})
    assert getattr(raised.value, "status", None) == 401


def test_locked_connection_is_a_connection(connection: LockedConnection) -> None:
    # Guard for the race test: the fixture's update_secrets really serialises.
    assert connection.lock.acquire(blocking=False)
    connection.lock.release()


def test_a_token_with_minutes_left_is_used_while_the_token_server_is_down(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any]
) -> None:
    connection = make_connection(cc_sandbox, cc_tokens)
    connection.stored_secrets["expires_at"] = int(time.time()) + 120  # refresh is due...
    cc_sandbox.inject(503, count=10, path_prefix="/oauth2")  # ...but the server is down
    with ConstantContactClient(connection) as client:
        assert client.get_json("/contacts", params={"limit": 1}) == {"contacts": []}
    assert connection.secrets()["access_token"] == cc_tokens["access_token"]
    connection.stored_secrets["expires_at"] = int(time.time()) - 1  # truly expired now
    with ConstantContactClient(connection) as client, pytest.raises(Exception) as raised:
        client.get_json("/contacts", params={"limit": 1})
    assert getattr(raised.value, "permanent", True) is False


class CountingConnection(LockedConnection):
    reads: int = 0

    def secrets(self) -> dict[str, Any]:
        self.reads += 1
        return super().secrets()


def test_the_access_token_is_read_once_until_it_nears_expiry(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any]
) -> None:
    """Call economy: a call reused the token read before instead of reading the secrets again
    (a database row and a decryption per call in a worker); near expiry it is read and
    refreshed as before, and after a 401 the stored token is read again."""
    base = make_connection(cc_sandbox, cc_tokens)
    connection = CountingConnection(
        name=base.name, config=base.config, stored_secrets=base.stored_secrets
    )
    with ConstantContactClient(connection) as client:
        for _ in range(20):
            client.get_json("/contacts", params={"limit": 1})
        assert client.tokens.secret_reads == 1
        assert connection.reads <= 2  # the token, and once the names to mask in logs
        # Near expiry (inside the refresh margin): read again and refreshed before use.
        connection.stored_secrets["expires_at"] = int(time.time()) + 10
        client.tokens._cached["expires_at"] = connection.stored_secrets["expires_at"]
        client.get_json("/contacts", params={"limit": 1})
        assert client.tokens.refreshes == 1
        cc_sandbox.expire_access_tokens()  # revoked at Constant Contact: a 401, then fresh
        client.get_json("/contacts", params={"limit": 1})
        assert client.tokens.refreshes == 2
        reads = client.tokens.secret_reads
        for _ in range(5):
            client.get_json("/contacts", params={"limit": 1})
        assert client.tokens.secret_reads == reads  # the retry after the 401 read it
    statuses = [r.status for r in cc_sandbox.api_requests()]
    assert statuses == [200] * 21 + [401] + [200] * 6
