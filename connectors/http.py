"""HTTP helpers any connector can use: retry policy, status mapping, URL checks, logged
exchanges (redacted by connectors/redaction.py).

Connectors keep their own request loop (auth and error bodies differ per system) and take
the decisions from here, so every connector retries, logs and refuses URLs the same way.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from connectors.base import HttpExchange
from connectors.config import connector_settings
from connectors.redaction import redact

# --------------------------------------------------------------------------------------------
# Retries: one status -> action table (Airbyte's default_error_mapping style) and a backoff
# --------------------------------------------------------------------------------------------


class ResponseAction(enum.StrEnum):
    SUCCESS = "success"
    RETRY = "retry"  # transient: back off and try again, within the policy's limits
    FAIL = "fail"  # retrying cannot help
    REFRESH_AND_RETRY = "refresh_and_retry"  # credentials expired: refresh once, then retry


@dataclass(frozen=True)
class ErrorResolution:
    action: ResponseAction
    permanent: bool  # what the ConnectorError says if we give up here
    message: str = ""


DEFAULT_ERROR_MAPPING: dict[int, ErrorResolution] = {
    400: ErrorResolution(ResponseAction.FAIL, True, "Bad request"),
    401: ErrorResolution(ResponseAction.REFRESH_AND_RETRY, True, "Unauthorized"),
    403: ErrorResolution(ResponseAction.FAIL, True, "Forbidden"),
    404: ErrorResolution(ResponseAction.FAIL, True, "Not found"),
    405: ErrorResolution(ResponseAction.FAIL, True, "Method not allowed"),
    408: ErrorResolution(ResponseAction.RETRY, False, "Request timeout"),
    409: ErrorResolution(ResponseAction.FAIL, True, "Conflict"),
    415: ErrorResolution(ResponseAction.FAIL, True, "Unsupported media type"),
    422: ErrorResolution(ResponseAction.FAIL, True, "Unprocessable entity"),
    429: ErrorResolution(ResponseAction.RETRY, False, "Too many requests"),
    500: ErrorResolution(ResponseAction.RETRY, False, "Internal server error"),
    502: ErrorResolution(ResponseAction.RETRY, False, "Bad gateway"),
    503: ErrorResolution(ResponseAction.RETRY, False, "Service unavailable"),
    504: ErrorResolution(ResponseAction.RETRY, False, "Gateway timeout"),
}
# A failed connection or a timeout: the request may never have arrived, so try again.
CONNECTION_ERROR = ErrorResolution(ResponseAction.RETRY, False, "Connection failed")


def resolve_status(
    status: int, mapping: Mapping[int, ErrorResolution] = DEFAULT_ERROR_MAPPING
) -> ErrorResolution:
    if status in mapping:
        return mapping[status]
    if status < 400:
        return ErrorResolution(ResponseAction.SUCCESS, False)
    if status >= 500:
        return ErrorResolution(ResponseAction.RETRY, False, f"Server error {status}")
    return ErrorResolution(ResponseAction.FAIL, True, f"HTTP {status}")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by a try count and a total wait."""

    max_tries: int = 6  # including the first
    base_delay: float = 1.0  # seconds before the first retry (before jitter)
    max_delay: float = 30.0  # one wait never exceeds this
    max_total_wait: float = 120.0  # give up once this much time went to waiting

    def delay(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Seconds before retry ``retry_number`` (1 = the first retry).

        "Equal jitter": half the exponential step is fixed, half random, so retries from
        several workers spread out yet never come back almost at once.
        """
        step = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        # retry_speedup is 1 but in the tests' worker processes: same tries, shorter waits.
        step /= connector_settings().retry_speedup
        return step / 2 + (rng or random).uniform(0, step / 2)

    def schedule(self, rng: random.Random | None = None) -> list[float]:
        """All the waits a request may go through, within both limits (for tests, docs)."""
        waits: list[float] = []
        for retry in range(1, self.max_tries):
            wait = self.delay(retry, rng)
            if sum(waits) + wait > self.max_total_wait:
                break
            waits.append(wait)
        return waits


NO_RETRY = RetryPolicy(max_tries=1)


# --------------------------------------------------------------------------------------------
# URLs: a connection may only point at its system's own hosts or the deployment's allow-list
# --------------------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped; "" if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return ""
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def url_allowed(url: str, allowed: tuple[str, ...] | list[str]) -> bool:
    """True when ``url`` is http(s), without credentials, and its origin is in ``allowed``."""
    found = origin(url)
    return bool(found) and found in {origin(a) for a in allowed if origin(a)}


def same_origin(url: str, other: str) -> bool:
    return bool(origin(url)) and origin(url) == origin(other)


# --------------------------------------------------------------------------------------------
# Operation-log records of HTTP calls
# --------------------------------------------------------------------------------------------

_MAX_LOGGED_TEXT = 4096
_MAX_LOGGED_ITEMS = 20


def sample(value: Any, max_items: int = _MAX_LOGGED_ITEMS) -> Any:
    """``value`` with every list cut to its first ``max_items`` (plus a note of the rest):
    a debug sample of a 40,000-row import must not cost megabytes per log entry."""
    if isinstance(value, Mapping):
        return {key: sample(item, max_items) for key, item in value.items()}
    if isinstance(value, list | tuple):
        kept = [sample(item, max_items) for item in value[:max_items]]
        if len(value) > max_items:
            kept.append(f"... {len(value) - max_items} more")
        return kept
    return value


def response_body_for_log(response: Any) -> Any:
    """The decoded JSON of a ``requests.Response``, or the start of its text."""
    if response is None or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:_MAX_LOGGED_TEXT]


def build_exchange(
    *,
    method: str,
    url: str,
    status: int | None,
    duration_ms: float,
    attempt: int,
    debug: bool,
    request_body: Any = None,
    response: Any = None,
    error: str = "",
    secrets: tuple[str, ...] = (),
) -> HttpExchange:
    """An HttpExchange with bodies only in debug mode, and always redacted."""
    return HttpExchange(
        method=method.upper(),
        url=redact(url, secrets),
        status=status,
        duration_ms=round(duration_ms, 3),
        attempt=attempt,
        request_body=redact(sample(request_body), secrets) if debug else None,
        response_body=redact(sample(response_body_for_log(response)), secrets) if debug else None,
        error=redact(error, secrets),
    )
