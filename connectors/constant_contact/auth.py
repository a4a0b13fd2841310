"""OAuth2 for Constant Contact: authorization code with PKCE, and token refresh.

Tokens live in the connection's secrets as ``access_token``, ``refresh_token`` and
``expires_at`` (epoch seconds). Every write goes through ``connection.update_secrets`` so
that the app's row lock serialises refreshes: refresh tokens may be single use (rotating),
and two workers refreshing with the same one would otherwise lose the rotated token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import requests

from connectors.base import ConnectionContext, ConnectorError, HttpExchange, NeedsReconnect
from connectors.config import connector_settings
from connectors.constant_contact.errors import ApiError, error_details
from connectors.constant_contact.settings import (
    REFRESH_MARGIN_FRACTION,
    REFRESH_MARGIN_SECONDS,
    SCOPES,
    ConnectionSettings,
)
from connectors.http import (
    ResponseAction as Action,
)
from connectors.http import (
    RetryPolicy,
    build_exchange,
    resolve_status,
)

RECONNECT_MESSAGE = (
    "Constant Contact no longer accepts this connection's authorisation ({detail}). "
    "Open the connection and press Connect with Constant Contact again."
)
# The token endpoint is retried on network errors and 5xx only, briefly: a user may be
# waiting on the OAuth callback, and a run can retry the whole batch later.
TOKEN_RETRY = RetryPolicy(max_tries=3, base_delay=0.5, max_delay=2.0, max_total_wait=5.0)

Reporter = Callable[[HttpExchange], None]


def authorization_url(
    settings: ConnectionSettings, *, redirect_uri: str, state: str, code_challenge: str
) -> str:
    """Where to send the user to grant access (PKCE S256; the app keeps the verifier)."""
    query = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in settings.authorize_url else "?"
    return f"{settings.authorize_url}{separator}{urlencode(query)}"


def token_fields(payload: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """The secrets to store from a token response (keeps the old refresh token if the
    server did not rotate it)."""
    access_token = payload.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ConnectorError(
            "Constant Contact's token response carried no access token.",
            permanent=False,
            key="invalid_token_response",
        )
    stored: dict[str, Any] = {
        **previous,
        "access_token": access_token,
        "refresh_token": payload.get("refresh_token") or previous.get("refresh_token", ""),
    }
    expires_in = payload.get("expires_in")
    if isinstance(expires_in, int | float) and expires_in > 0:
        stored["expires_at"] = int(time.time() + expires_in)
        stored["token_lifetime"] = int(expires_in)  # sizes the refresh margin
    else:
        stored.pop("expires_at", None)
        stored.pop("token_lifetime", None)
    if payload.get("scope"):
        stored["scope"] = str(payload["scope"])
    return stored


class _Reconnect(Exception):
    """Raised inside ``update_secrets`` so the app's transaction rolls back first."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class TokenManager:
    """Hands out a valid access token; refreshes before expiry and after a 401."""

    def __init__(
        self,
        connection: ConnectionContext,
        settings: ConnectionSettings,
        session: requests.Session,
        *,
        report: Reporter | None = None,
        debug: bool = False,
        retry: RetryPolicy = TOKEN_RETRY,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.session = session
        self.report = report
        self.debug = debug
        self.retry = retry
        self.refreshes = 0  # token endpoint calls this manager made (tests, benchmarks)
        self._known: tuple[str, ...] | None = None
        # The token last read and when it was read (monotonic): reused until it nears
        # expiry, so a call does not cost a secrets read (a database row and a decryption).
        self._cached: dict[str, Any] | None = None
        self._cached_at = 0.0
        self.secret_reads = 0  # secrets reads access_token() made (tests, benchmarks)

    # ---------------------------------------------------------------- what callers use

    def access_token(self) -> str:
        cached = self._cached
        if (
            cached is not None
            and time.monotonic() - self._cached_at < TOKEN_CACHE_SECONDS
            and not _expiring(cached)
        ):
            return str(cached["access_token"])
        self._cached = None
        self.secret_reads += 1
        secrets = self.connection.secrets()
        self._remember(secrets)
        token = secrets.get("access_token") or ""
        if not token:
            if secrets.get("refresh_token"):
                return self.refresh(stale_access_token="")
            raise NeedsReconnect(
                "This connection has no access token yet: connect with Constant Contact "
                "(or paste an access token) first.",
                key="not_connected",
            )
        if _expiring(secrets) and secrets.get("refresh_token"):
            try:
                return self.refresh(stale_access_token=token)
            except NeedsReconnect:
                raise
            except ConnectorError:
                # The authorization server is down or slow, but the token has a few minutes
                # left: use them rather than fail calls that would still succeed.
                if _expiring(secrets, margin=0):
                    raise
                return token  # not cached: the next call tries the refresh again
        self._cached = {k: secrets.get(k) for k in ("access_token", "expires_at", "token_lifetime")}
        self._cached_at = time.monotonic()
        return token

    def can_refresh(self) -> bool:
        return bool(self.connection.secrets().get("refresh_token"))

    def known_secrets(self) -> tuple[str, ...]:
        """Secret values to mask wherever they might show up in logged text."""
        if self._known is None:
            self._remember(self.connection.secrets())
        return self._known or ()

    def _remember(self, secrets: dict[str, Any]) -> None:
        names = ("access_token", "refresh_token", "client_secret")
        self._known = tuple(str(secrets[n]) for n in names if secrets.get(n))

    def refresh(self, *, stale_access_token: str) -> str:
        """A fresh access token, refreshing at most once across racing workers.

        ``stale_access_token`` is the token we found expiring or got a 401 with. Inside the
        locked read-modify-write we look again: if another worker already refreshed (the
        stored refresh token changed, or the stored access token is new and not expiring),
        we take its tokens instead of spending the refresh token a second time.
        """
        self._cached = None  # whatever happens, the next call reads what is stored
        started_with = self.connection.secrets().get("refresh_token") or ""
        outcome: dict[str, Any] = {}

        def mutate(current: dict[str, Any]) -> dict[str, Any] | None:
            current_refresh = current.get("refresh_token") or ""
            current_access = current.get("access_token") or ""
            if current_refresh != started_with or (
                current_access and current_access != stale_access_token and not _expiring(current)
            ):
                outcome["access_token"] = current_access
                return None  # someone else refreshed: keep theirs
            if not current_refresh:
                raise _Reconnect("no refresh token is stored")
            payload = self._token_request(
                {"grant_type": "refresh_token", "refresh_token": current_refresh},
                client_secret=current.get("client_secret") or "",
            )
            stored = token_fields(payload, current)
            outcome["access_token"] = stored["access_token"]
            self._remember(stored)
            return stored

        try:
            self.connection.update_secrets(mutate)
        except _Reconnect as exc:
            message = RECONNECT_MESSAGE.format(detail=exc.detail)
            self.connection.mark_needs_reconnect(message)
            raise NeedsReconnect(message) from None
        if not outcome.get("access_token"):
            raise NeedsReconnect("The stored access token is empty; reconnect the connection.")
        return outcome["access_token"]

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> None:
        """Finish the authorization code flow and store the tokens."""
        client_secret = self.connection.secrets().get("client_secret") or ""
        try:
            payload = self._token_request(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                },
                client_secret=client_secret,
            )
        except _Reconnect as exc:
            raise ConnectorError(
                f"Constant Contact refused the authorization ({exc.detail}); please try "
                "connecting again.",
                permanent=True,
                key="invalid_grant",
            ) from None
        self.connection.update_secrets(lambda current: token_fields(payload, current))

    # ---------------------------------------------------------------- the token endpoint

    def _token_request(self, form: dict[str, str], *, client_secret: str) -> dict[str, Any]:
        """POST the token endpoint (HTTP Basic client_id:client_secret, form-encoded).

        Without a client secret (a public client using PKCE only) the client id goes in the
        form instead, as OAuth2 prescribes.
        """
        auth: tuple[str, str] | None = None
        if client_secret:
            auth = (self.settings.client_id, client_secret)
        else:
            form = {**form, "client_id": self.settings.client_id}
        sent = (form.get(n, "") for n in ("refresh_token", "code", "code_verifier"))
        secrets = (*(v for v in (*sent, client_secret) if v), *self.known_secrets())
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self.session.post(
                    self.settings.token_url,
                    data=form,
                    auth=auth,
                    headers={"Accept": "application/json"},
                    timeout=connector_settings().http_timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                self._report(form, None, started, attempt, type(exc).__name__, secrets)
                error: ConnectorError = ConnectorError(
                    f"Could not reach the Constant Contact authorization server "
                    f"({type(exc).__name__}).",
                    permanent=False,
                    key="unreachable",
                )
                retry = True
            else:
                self._report(form, response, started, attempt, "", secrets)
                if form.get("grant_type") == "refresh_token":
                    self.refreshes += 1
                if response.ok:
                    try:
                        payload = response.json()
                    except ValueError:
                        payload = None
                    if isinstance(payload, dict):
                        return payload
                    raise ConnectorError(
                        "Constant Contact's token endpoint answered without JSON.",
                        permanent=False,
                        key="invalid_token_response",
                    )
                key, message = error_details(response)
                if key == "invalid_grant":
                    raise _Reconnect(f"invalid_grant: {message}" if message else key)
                resolution = resolve_status(response.status_code)
                retry = resolution.action is Action.RETRY
                error = ApiError(
                    status=response.status_code,
                    key=key,
                    error_message=message,
                    permanent=resolution.permanent,
                )
            if retry and attempt < self.retry.max_tries:
                delay = self.retry.delay(attempt)
                if waited + delay <= self.retry.max_total_wait:
                    time.sleep(delay)
                    waited += delay
                    continue
            raise error

    def _report(
        self,
        form: dict[str, str],
        response: requests.Response | None,
        started: float,
        attempt: int,
        error: str,
        secrets: tuple[str, ...],
    ) -> None:
        if self.report is None:
            return
        self.report(
            build_exchange(
                method="POST",
                url=self.settings.token_url,
                status=response.status_code if response is not None else None,
                duration_ms=(time.monotonic() - started) * 1000,
                attempt=attempt,
                debug=self.debug,
                request_body=form,
                response=response,
                error=error,
                secrets=secrets,
            )
        )


# A token read is reused at most this long even when it does not expire (a pasted token
# with no lifetime): a token pasted anew, or refreshed by another worker, is seen within it.
TOKEN_CACHE_SECONDS = 60.0


def refresh_margin(secrets: dict[str, Any]) -> float:
    """How long before expiry to refresh: a share of the token's lifetime, at most 5 minutes.

    A fixed 5 minutes would refresh a 2-minute token before every call. Tokens stored before
    their lifetime was recorded get the 5 minutes until their next refresh records it.
    """
    lifetime = secrets.get("token_lifetime")
    if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
        return REFRESH_MARGIN_SECONDS
    return min(REFRESH_MARGIN_SECONDS, lifetime * REFRESH_MARGIN_FRACTION)


def _expiring(secrets: dict[str, Any], margin: float | None = None) -> bool:
    if margin is None:
        margin = refresh_margin(secrets)
    expires_at = secrets.get("expires_at")
    if not isinstance(expires_at, int | float):
        try:
            expires_at = float(expires_at) if expires_at not in (None, "") else None
        except (TypeError, ValueError):
            expires_at = None
    return expires_at is not None and expires_at - time.time() < margin
