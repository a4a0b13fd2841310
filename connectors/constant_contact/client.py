"""The Constant Contact V3 HTTP client: auth, pacing, retries, errors, logging.

One ``requests.Session`` per client. Every call:
  1. gets a valid access token (refreshed ahead of expiry),
  2. waits for its slot in the rate limiter shared by every worker using the API key,
  3. is sent with a timeout, reported to ``on_http`` (bodies only in debug, redacted),
  4. is resolved through one status table: retry (429, 5xx, network) with backoff and
     jitter within a try limit and a total wait; refresh-then-retry once on 401; fail on
     any other 4xx, raising an ``ApiError`` with Constant Contact's error_key/message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import urljoin

import requests

from connectors.base import ConnectionContext, ConnectorError, HttpExchange, RunContext
from connectors.config import connector_settings
from connectors.constant_contact.auth import TokenManager
from connectors.constant_contact.errors import ApiError, error_details
from connectors.constant_contact.settings import (
    RATE_LIMIT_PER_SECOND,
    RATE_WINDOW_MARGIN_SECONDS,
    RATE_WINDOW_SECONDS,
    ConnectionSettings,
    allowed_origins,
)
from connectors.http import (
    CONNECTION_ERROR,
    RetryPolicy,
    build_exchange,
    resolve_status,
    same_origin,
    url_allowed,
)
from connectors.http import (
    ResponseAction as Action,
)
from connectors.quota import DailyQuota, QuotaExhausted, daily_quota
from connectors.ratelimit import Pace, RateLimiter, WindowLimiter, shared_limiter

DEFAULT_RETRY = RetryPolicy(max_tries=6, base_delay=1.0, max_delay=30.0, max_total_wait=120.0)
# GET /contacts?segment_id=... may answer 202 while the segment is computed.
ACCEPTED_RETRIES = 10
ACCEPTED_DELAY = 1.0
# Daily quota exhausted: retrying within this run cannot help (it resets at midnight).
_NO_RETRY_KEYS = frozenset({"quota_exceeded"})
# Retryable answers that say the call was not processed (throttled before any work): a 409
# on the retry is then a real conflict. Any other retryable failure (5xx, a time-out, a
# dropped connection) may come from a call that did take effect.
_NOT_PROCESSED_STATUSES = frozenset({429})


def limits_identity(settings: ConnectionSettings) -> str:
    """Whose limits a connection spends: its API key at its API server (a sandbox on another
    port is another Constant Contact, with its own limits)."""
    return f"{settings.api_base_url}|{settings.client_id}"


def rate_limiter_for(identity: str) -> RateLimiter:
    speedup = connector_settings().rate_limit_speedup  # 1 but in the tests' workers
    pace = Pace(
        calls=RATE_LIMIT_PER_SECOND,
        window=(RATE_WINDOW_SECONDS + RATE_WINDOW_MARGIN_SECONDS) / speedup,
        spacing=RATE_WINDOW_SECONDS / RATE_LIMIT_PER_SECOND / speedup,
        # A call not answered within two time-outs is gone (its worker was killed).
        hold=2 * connector_settings().http_timeout + RATE_WINDOW_SECONDS,
    )
    return shared_limiter("constant_contact", identity, pace=pace)


def daily_quota_for(identity: str) -> DailyQuota:
    return daily_quota(
        "constant_contact", identity, connector_settings().constant_contact_daily_quota
    )


def calls_today(config: Mapping[str, Any]) -> tuple[int, int]:
    """(calls counted today, the daily quota) for a connection's API key, for display."""
    quota = daily_quota_for(limits_identity(ConnectionSettings.from_config(config)))
    return quota.used(), quota.limit


def quota_message(exc: QuotaExhausted) -> str:
    return (
        f"Constant Contact's daily quota for this API key is used up: {exc.used:,} of "
        f"{exc.limit:,} calls counted on {exc.day} (UTC), so the call past it was not sent. "
        "Calls are allowed again after 00:00 UTC."
    )


READ_METHODS = frozenset({"GET", "HEAD"})


class ConstantContactClient:
    def __init__(
        self,
        connection: ConnectionContext,
        *,
        on_http: Callable[[HttpExchange], None] | None = None,
        debug: bool = False,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        quota: DailyQuota | None = None,
        read_only: bool = False,
    ) -> None:
        self.read_only = read_only
        self.settings = ConnectionSettings.from_config(connection.config)
        origins = allowed_origins()
        for url in (self.settings.api_base_url, self.settings.token_url):
            if not url_allowed(url, origins):
                # Checked again here, not only when the form was saved: the allow-list may
                # have shrunk since, and a stored URL must never make us call elsewhere.
                raise ConnectorError(
                    "The connection points at an address that is not allowed.",
                    permanent=True,
                    key="url_not_allowed",
                )
        self.on_http = on_http
        self.debug = debug
        self.retry = retry or DEFAULT_RETRY
        identity = limits_identity(self.settings)
        self.limiter = limiter or rate_limiter_for(identity)
        self.quota = quota or daily_quota_for(identity)
        self.session = requests.Session()
        self.tokens = TokenManager(
            connection, self.settings, self.session, report=self._emit, debug=debug
        )

    @classmethod
    def for_run(cls, context: RunContext, **kwargs: Any) -> ConstantContactClient:
        kwargs.setdefault("read_only", context.read_only)
        return cls(context.connection, on_http=context.on_http, debug=context.debug, **kwargs)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ConstantContactClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- URLs

    def url(self, path_or_url: str) -> str:
        """An absolute URL for a path ("/contacts") or a ``_links`` href ("/v3/contacts?...").

        Links must stay on the API's own origin: a page must not send our token elsewhere.
        """
        base = self.settings.api_base_url
        if path_or_url.startswith(("http://", "https://")):
            url = path_or_url
        elif path_or_url.startswith("/v3/") and base.endswith("/v3"):
            url = urljoin(base + "/", path_or_url)
        else:
            url = base + "/" + path_or_url.lstrip("/")
        if not same_origin(url, base):
            raise ConnectorError(
                "Constant Contact returned a link to another host; refusing to follow it.",
                permanent=True,
                key="foreign_link",
            )
        return url

    # ---------------------------------------------------------------- requests

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        retry: RetryPolicy | None = None,
        stream: bool = False,
        accept: str = "application/json",
    ) -> requests.Response:
        """Send one API call with auth, pacing and retries; the final 2xx/3xx response.

        ``stream``: the body of a success is left unread (a large CSV export is read as it
        arrives; the caller closes the response); ``accept``: the media type asked for.

        Raises ``ApiError`` (a ConnectorError) carrying Constant Contact's error, or a
        ConnectorError(permanent=False, key="unreachable") after network failures.
        """
        if self.read_only and method.upper() not in READ_METHODS:
            # A preview must leave nothing behind at Constant Contact: refuse before sending.
            raise ConnectorError(
                f"reading this needs a call that is not read-only ({method.upper()}).",
                permanent=True,
                key="read_only",
            )
        policy = retry or self.retry
        url = self.url(path_or_url)
        # Serialise once: the exact bytes are what size limits (bulk import) refer to.
        data = None if json_body is None else json.dumps(json_body).encode()
        headers = {"Accept": accept}
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        waited = 0.0
        refreshed = False
        maybe_processed = False  # an earlier try may have taken effect at Constant Contact
        while True:
            attempt += 1
            token = self.tokens.access_token()
            try:
                with self._paced():
                    started = time.monotonic()
                    response = self.session.request(
                        method,
                        url,
                        params=params,
                        data=data,
                        headers={**headers, "Authorization": f"Bearer {token}"},
                        timeout=connector_settings().http_timeout,
                        # A redirect could lead anywhere, allow-list or not: never follow one.
                        allow_redirects=False,
                        stream=stream,
                    )
            except requests.RequestException as exc:
                reason = type(exc).__name__
                self._report(method, url, params, json_body, None, started, attempt, reason)
                resolution = CONNECTION_ERROR
                error: ConnectorError = ConnectorError(
                    f"Could not reach Constant Contact ({reason}).",
                    permanent=False,
                    key="unreachable",
                )
                retry_after = None
                ambiguous = not isinstance(exc, requests.ConnectTimeout)  # else never sent
            else:
                self._report(method, url, params, json_body, response, started, attempt, "")
                resolution = resolve_status(response.status_code)
                if resolution.action is Action.SUCCESS:
                    return response
                key, message = error_details(response)
                error = ApiError(
                    status=response.status_code,
                    key=key,
                    error_message=message,
                    permanent=resolution.permanent,
                )
                ambiguous = response.status_code not in _NOT_PROCESSED_STATUSES
                retry_after = _retry_after(response)
            if resolution.action is Action.RETRY and ambiguous:
                maybe_processed = True
            error.maybe_processed = maybe_processed
            if error.key in _NO_RETRY_KEYS:
                error.permanent = True  # no later call of this run can succeed either
                raise error

            if resolution.action is Action.REFRESH_AND_RETRY:
                if not refreshed and self.tokens.can_refresh():
                    refreshed = True
                    attempt -= 1  # a refresh is not a failed try
                    self.tokens.refresh(stale_access_token=token)
                    continue
                raise error
            if resolution.action is Action.RETRY and attempt < policy.max_tries:
                delay = policy.delay(attempt)
                if retry_after is not None:
                    delay = max(delay, min(retry_after, policy.max_delay))
                if waited + delay <= policy.max_total_wait:
                    time.sleep(delay)
                    waited += delay
                    continue
            raise error

    @contextmanager
    def _paced(self) -> Iterator[None]:
        """Count the call against today's quota and hold a place in the rate window while
        it runs (its answer in, the place is kept one window more). The shared limiter
        counts the call in the round trip that takes its place (2 store round trips a call,
        not 3); another limiter (tests' in-process bucket) after a count of its own."""
        with ExitStack() as stack:
            try:
                if isinstance(self.limiter, WindowLimiter):
                    stack.enter_context(self.limiter.slot(self.quota.request()))
                else:
                    self.quota.take()
                    stack.enter_context(self.limiter.slot())
            except QuotaExhausted as exc:
                message = quota_message(exc)
                raise ConnectorError(message, permanent=True, key="quota_exceeded") from None
            yield

    def get_json(self, path_or_url: str, **kwargs: Any) -> Any:
        return self.decode(self.request("GET", path_or_url, **kwargs))

    def send_json(self, method: str, path: str, body: Any, **kwargs: Any) -> Any:
        return self.decode(self.request(method, path, json_body=body, **kwargs))

    @staticmethod
    def decode(response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"Constant Contact answered {response.status_code} without JSON.",
                permanent=False,
                key="invalid_response",
                status=response.status_code,
            ) from None

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        items_key: str,
        first_page: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Each page's JSON, following ``_links.next.href`` until it is absent.

        ``first_page``: the first page, already fetched (with the same path and params).
        """
        url: str | None = path
        page_params: Mapping[str, Any] | None = params
        while url:
            if first_page is not None:
                page, first_page = first_page, None
            else:
                page = self.get_page(url, page_params, items_key=items_key)
            yield page
            url = ((page.get("_links") or {}).get("next") or {}).get("href")
            page_params = None  # the next link carries the cursor and every filter

    def get_page(
        self, url: str, params: Mapping[str, Any] | None, *, items_key: str
    ) -> dict[str, Any]:
        """One page of a list endpoint, checked to carry its ``items_key`` list."""
        response = self.request("GET", url, params=params)
        for _ in range(ACCEPTED_RETRIES):
            # 202 = "accepted, still computing" (segments): ask again for the result.
            if response.status_code != 202:
                break
            time.sleep(ACCEPTED_DELAY)
            response = self.request("GET", url, params=params)
        page = self.decode(response)
        if not isinstance(page, dict) or not isinstance(page.get(items_key, []), list):
            raise ConnectorError(
                f"Constant Contact answered a page without a {items_key!r} list.",
                permanent=False,
                key="invalid_response",
            )
        return page

    # ---------------------------------------------------------------- logging

    def _emit(self, exchange: HttpExchange) -> None:
        if self.on_http is not None:
            self.on_http(exchange)

    def _report(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        response: requests.Response | None,
        started: float,
        attempt: int,
        error: str,
    ) -> None:
        if self.on_http is None:
            return
        shown_url = response.url if response is not None else url
        if response is None and params:
            shown_url = requests.Request("GET", url, params=params).prepare().url or url
        self.on_http(
            build_exchange(
                method=method,
                url=shown_url,
                status=response.status_code if response is not None else None,
                duration_ms=(time.monotonic() - started) * 1000,
                attempt=attempt,
                debug=self.debug,
                request_body=body,
                response=response,
                error=error,
                secrets=self.tokens.known_secrets(),
            )
        )


def _retry_after(response: requests.Response) -> float | None:
    """Constant Contact promises no Retry-After, but if one comes, respect it."""
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
