"""The Test button: every outcome, each from a real exchange with the sandbox."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors import config as connector_config
from connectors.base import CheckOutcome as Outcome
from connectors.constant_contact.auth import TokenManager
from connectors.constant_contact.connector import ConstantContactConnector
from connectors.constant_contact.sandbox import Sandbox
from connectors.constant_contact.sandbox.oauth import s256
from connectors.constant_contact.settings import ConnectionSettings
from tests.connectors.constant_contact.conftest import LockedConnection, make_connection
from tests.fixtures.sandbox import CC_CLIENT_ID

CONNECTOR = ConstantContactConnector()


def test_connected_names_the_organisation(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    result = CONNECTOR.test(connection)
    assert result.outcome is Outcome.CONNECTED and result.ok
    assert result.message == "Connected to Constant Contact Sandbox."
    # The name comes from the account, but only a call that needs contact_data proves that
    # runs will work: a Test checks both.
    assert [(r.path, r.status) for r in cc_sandbox.api_requests()] == [
        ("/v3/account/summary", 200),
        ("/v3/contacts", 200),
    ]


def test_without_account_read_still_connects_through_contacts(cc_sandbox: Sandbox) -> None:
    tokens = cc_sandbox.issue_tokens(CC_CLIENT_ID, scopes=("contact_data", "offline_access"))
    result = CONNECTOR.test(make_connection(cc_sandbox, tokens))
    assert result.outcome is Outcome.CONNECTED
    assert "account_read" in result.message
    assert [(r.path, r.status) for r in cc_sandbox.api_requests()] == [
        ("/v3/account/summary", 403),
        ("/v3/contacts", 200),
    ]


def test_account_read_without_contact_data_is_missing_scope(cc_sandbox: Sandbox) -> None:
    """Issue 17.2: the account summary answers, yet every run would get 403 on contacts."""
    tokens = cc_sandbox.issue_tokens(CC_CLIENT_ID, scopes=("account_read", "offline_access"))
    result = CONNECTOR.test(make_connection(cc_sandbox, tokens))
    assert result.outcome is Outcome.MISSING_SCOPE and not result.ok
    assert "contact_data" in result.message
    assert "contact_data" in result.detail  # Constant Contact's own words
    assert [(r.path, r.status) for r in cc_sandbox.api_requests()] == [
        ("/v3/account/summary", 200),
        ("/v3/contacts", 403),
    ]


def test_limited_scope_granted_through_the_oauth_flow_is_missing_scope(
    cc_sandbox: Sandbox,
) -> None:
    """The same through the sandbox's real OAuth2 code flow over HTTP: a user who granted
    only account_read and offline_access gets MISSING_SCOPE, not "Connected"."""
    verifier = "v" * 64
    redirect_uri = "http://127.0.0.1:1/callback"
    authorize = requests.get(
        cc_sandbox.authorize_url,
        params={
            "response_type": "code",
            "client_id": CC_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": "account_read offline_access",
            "state": "s1",
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert authorize.status_code == 302
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    connection = make_connection(cc_sandbox, None)
    settings = ConnectionSettings.from_config(connection.config)
    with requests.Session() as session:
        TokenManager(connection, settings, session).exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=verifier
        )
    assert connection.secrets()["scope"] == "account_read offline_access"
    result = CONNECTOR.test(connection)
    assert result.outcome is Outcome.MISSING_SCOPE


def test_refresh_refused_with_invalid_client_blames_the_app_credentials(
    cc_sandbox: Sandbox, cc_tokens: dict
) -> None:
    """Issue 17.2: a wrong client secret only shows when the token must be refreshed; the
    token endpoint answers 401 invalid_client, which is not the access token's fault."""
    connection = make_connection(cc_sandbox, cc_tokens)
    connection.stored_secrets["client_secret"] = "not-the-secret"
    cc_sandbox.expire_access_tokens()
    result = CONNECTOR.test(connection)
    assert result.outcome is Outcome.BAD_CREDENTIALS
    assert "app credentials" in result.message
    assert result.detail.startswith("invalid_client")
    token_calls = [r for r in cc_sandbox.requests if r.path.endswith("/token")]
    assert [r.status for r in token_calls] == [401]


def test_bad_credentials_when_the_token_is_refused(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    connection = make_connection(cc_sandbox, cc_tokens, auth_method="token")
    connection.stored_secrets.update(access_token="not-a-token", refresh_token="")
    result = CONNECTOR.test(connection)
    assert result.outcome is Outcome.BAD_CREDENTIALS
    assert result.detail.startswith("unauthorized")
    assert len(cc_sandbox.api_requests()) == 1  # no retries


def test_bad_credentials_on_invalid_grant(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    connection = make_connection(cc_sandbox, cc_tokens)
    cc_sandbox.expire_access_tokens()
    cc_sandbox.revoke_refresh_token(cc_tokens["refresh_token"])
    result = CONNECTOR.test(connection)
    assert result.outcome is Outcome.BAD_CREDENTIALS
    assert connection.reconnect_message


def test_bad_credentials_without_any_token(cc_sandbox: Sandbox) -> None:
    result = CONNECTOR.test(make_connection(cc_sandbox, None))
    assert result.outcome is Outcome.BAD_CREDENTIALS
    assert cc_sandbox.api_requests() == []


def test_rate_limited(connection: LockedConnection, cc_sandbox: Sandbox) -> None:
    cc_sandbox.inject(429, count=1)
    result = CONNECTOR.test(connection)
    assert result.outcome is Outcome.RATE_LIMITED
    assert "throttled" in result.detail
    assert len(cc_sandbox.api_requests()) == 1


def test_unexpected_on_server_error(connection: LockedConnection, cc_sandbox: Sandbox) -> None:
    cc_sandbox.inject(500, count=1)
    result = CONNECTOR.test(connection)
    assert result.outcome is Outcome.UNEXPECTED
    assert "internal service" in result.detail
    assert len(cc_sandbox.api_requests()) == 1  # the Test makes no retries


@pytest.fixture
def html_server() -> Iterator[str]:
    """A real HTTP server that answers 200 with a web page to everything (a captive
    portal, a misconfigured proxy): what a Test must not call a success."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>Welcome!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_unexpected_when_200_is_not_the_documented_json(
    cc_sandbox: Sandbox, cc_tokens: dict[str, Any], html_server: str
) -> None:
    connector_config.configure(url_allow_list=(cc_sandbox.url, html_server))
    connection = make_connection(cc_sandbox, cc_tokens, api_base_url=html_server + "/v3")
    result = CONNECTOR.test(connection)
    assert result.outcome is Outcome.UNEXPECTED
    assert "without JSON" in result.detail


def test_unreachable(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    connector_config.configure(url_allow_list=(cc_sandbox.url, dead))
    result = CONNECTOR.test(make_connection(cc_sandbox, cc_tokens, api_base_url=dead + "/v3"))
    assert result.outcome is Outcome.UNREACHABLE
    assert "ConnectionError" in result.detail


def test_unreachable_on_dns_failure(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    nowhere = "http://no-such-host.invalid"
    connector_config.configure(url_allow_list=(cc_sandbox.url, nowhere))
    result = CONNECTOR.test(make_connection(cc_sandbox, cc_tokens, api_base_url=nowhere + "/v3"))
    assert result.outcome is Outcome.UNREACHABLE


def test_invalid_config(cc_sandbox: Sandbox, cc_tokens: dict) -> None:
    result = CONNECTOR.test(
        make_connection(cc_sandbox, cc_tokens, api_base_url="http://169.254.169.254/v3")
    )
    assert result.outcome is Outcome.INVALID_CONFIG and "api_base_url" in result.detail
    missing = make_connection(cc_sandbox, cc_tokens, client_id="")
    assert CONNECTOR.test(missing).outcome is Outcome.INVALID_CONFIG
    assert cc_sandbox.api_requests() == []


def test_redirects_are_never_followed(cc_sandbox: Sandbox, cc_tokens: dict[str, Any]) -> None:
    hits: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(302)
            port = self.server.server_address[1]
            self.send_header("Location", f"http://127.0.0.1:{port}/followed")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    redirecting = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        connector_config.configure(url_allow_list=(cc_sandbox.url, redirecting))
        connection = make_connection(cc_sandbox, cc_tokens, api_base_url=redirecting + "/v3")
        result = CONNECTOR.test(connection)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/v3/account/summary"]  # "/followed" was never asked for
    assert result.outcome is Outcome.UNEXPECTED


@pytest.mark.parametrize("counted_by", ["us", "constant_contact"])
def test_a_spent_daily_quota_says_so(
    connection: LockedConnection, cc_sandbox: Sandbox, counted_by: str
) -> None:
    """Ours (counted ahead, the call never sent) or Constant Contact's own 429
    quota_exceeded: either way the Test says the day's quota is spent, not "try again in a
    moment" nor "answered unexpectedly"."""
    if counted_by == "us":
        connector_config.configure(constant_contact_daily_quota=1)
    else:
        cc_sandbox.configure(daily_quota=1)
    try:
        result = CONNECTOR.test(connection)
    finally:
        connector_config.configure(constant_contact_daily_quota=10_000)
    assert result.outcome is Outcome.RATE_LIMITED
    assert "daily quota" in result.message and "00:00 UTC" in result.message
    assert [r.status for r in cc_sandbox.api_requests()] == (
        [200] if counted_by == "us" else [200, 429]
    )
