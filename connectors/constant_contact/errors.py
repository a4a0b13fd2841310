"""Constant Contact's error bodies, turned into ConnectorErrors."""

from __future__ import annotations

from typing import Any

import requests

from connectors.base import ConnectorError


def error_details(response: requests.Response) -> tuple[str, str]:
    """(error_key, error_message) from a Constant Contact error response.

    The API answers errors with a JSON array of ``{error_key, error_message}`` (the
    contract's APIErrorSchema), sometimes with one such object, and the OAuth server with
    ``{error, error_description}``. Anything else falls back to the status line.
    """
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    return details_from_body(body, response.status_code, response.reason or "")


def details_from_body(body: Any, status: int, reason: str = "") -> tuple[str, str]:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        keys = [str(item.get("error_key", "")) for item in body if isinstance(item, dict)]
        messages = [str(item.get("error_message", "")) for item in body if isinstance(item, dict)]
        return keys[0], "; ".join(m for m in messages if m)
    if isinstance(body, dict):
        if "error_key" in body or "error_message" in body:
            return str(body.get("error_key", "")), str(body.get("error_message", ""))
        if "error" in body:
            return str(body["error"]), str(body.get("error_description", ""))
    return f"http_{status}", f"HTTP {status} {reason}".strip()


class ApiError(ConnectorError):
    """An error answer from Constant Contact; ``error_message`` is its own text, verbatim."""

    def __init__(
        self, *, status: int | None, key: str, error_message: str, permanent: bool
    ) -> None:
        where = f"answered {status}" if status else "failed"
        super().__init__(
            f"Constant Contact {where}: {error_message or key}",
            permanent=permanent,
            key=key,
            status=status,
        )
        self.error_message = error_message or key


def api_error(response: requests.Response, *, permanent: bool) -> ApiError:
    key, message = error_details(response)
    return ApiError(
        status=response.status_code, key=key, error_message=message, permanent=permanent
    )
