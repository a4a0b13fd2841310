"""One redaction step for everything a run stores from a connector (log lines, debug samples).

Connectors already redact; the engine does it again, because a stored secret can't be
un-stored: secret-looking keys, bearer tokens and URL query values under secret names, plus
the connection's own current secret values wherever they appear in text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.http import REDACTED, is_secret_name, redact

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_QUERY_SECRET = re.compile(r"([?&])([^=&#]+)=([^&#]*)")
MAX_TEXT = 20_000  # characters kept of one body in a debug sample


def _secret_values(secrets: Mapping[str, Any] | None) -> tuple[str, ...]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= 6:
            found.append(value)

    walk(secrets or {})
    return tuple(found)


def _text(value: str, secrets: Iterable[str]) -> str:
    value = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    value = _QUERY_SECRET.sub(
        lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}" if is_secret_name(m.group(2)) else m[0],
        value,
    )
    for secret in secrets:
        value = value.replace(secret, REDACTED)
    return value


def redact_for_log(value: Any, secrets: Mapping[str, Any] | None = None) -> Any:
    """A copy of ``value`` safe to store in a run's log or debug samples."""
    known = _secret_values(secrets)
    value = redact(value, known)

    def walk(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [walk(inner) for inner in item]
        if isinstance(item, str):
            return _text(item, known)
        return item

    return walk(value)


def truncate_json(value: Any, limit: int = MAX_TEXT) -> Any:
    """Bodies are samples: a long one is cut to ``limit`` characters of its JSON text."""
    import json

    text = json.dumps(value, default=str)
    if len(text) <= limit:
        return value
    return {"truncated": True, "size": len(text), "start": text[:limit]}
