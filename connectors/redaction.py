"""Secrets out of everything that is kept or shown: run logs and debug samples, connector HTTP
logs, audit entries and project exports.

One list of secret names serves them all (it was two lists that disagreed). It lives in
``connectors`` because connectors never import the designer, while the designer may import this.
Two treatments: what is logged keeps its shape with values masked (``redact``,
``redact_for_log``); what is stored as a snapshot or exported drops the keys (``drop_secrets``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
# Names whose values are credentials wherever they appear (JSON keys, form fields, headers,
# URL query parameters, model fields): client_secret, access_token, Authorization, Cookie, ...
SECRET_NAME = re.compile(
    r"token|secret|password|passwd|credential|authorization|cookie|api[-_]?key|code_verifier"
    r"|encrypted|^code$",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_QUERY_PARAM = re.compile(r"([?&])([^=&#]+)=([^&#]*)")
_MIN_KNOWN = 4  # shorter known values would mask ordinary text


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    return name in set(extra) or bool(SECRET_NAME.search(str(name)))


def redact(value: Any, extra_secrets: Iterable[str] = ()) -> Any:
    """A copy of ``value`` safe to log: values under secret names are masked at any depth of
    dicts and lists; in strings, any of ``extra_secrets`` (e.g. the live access token) is masked
    too, so a secret that leaks into free text (an echoed header, an error message) is caught."""
    secrets = tuple(s for s in extra_secrets if s and len(s) >= _MIN_KNOWN)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_secret_name(str(key)) else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
    return value


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Bearer/Basic credentials, secret-named URL query values and known secrets masked."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _QUERY_PARAM.sub(
        lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}" if is_secret_name(m.group(2)) else m[0],
        text,
    )
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _known_values(secrets: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Every string of a connection's secrets long enough to be worth masking in text."""
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


def redact_for_log(value: Any, secrets: Mapping[str, Any] | None = None) -> Any:
    """A copy of ``value`` safe to store in a run's log or debug samples: ``redact`` plus, in
    every string, bearer tokens, secret-named query values and the connection's own current
    secret values. The engine applies it again after the connector: a stored secret can't be
    un-stored."""
    known = _known_values(secrets)
    value = redact(value, known)

    def walk(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [walk(inner) for inner in item]
        if isinstance(item, str):
            return redact_text(item, known)
        return item

    return walk(value)


def drop_secrets(value: Any, *, extra_keys: Iterable[str] = ()) -> Any:
    """The same shape with every secret-named key dropped, at any depth (audit snapshots,
    exports). ``extra_keys``: a connector's own secret field names. A boolean under a
    secret-like name (``is_secret``) is a flag, not a secret, and stays."""
    extra = frozenset(extra_keys)
    if isinstance(value, Mapping):
        return {
            key: drop_secrets(item, extra_keys=extra)
            for key, item in value.items()
            if isinstance(item, bool) or not is_secret_name(str(key), extra)
        }
    if isinstance(value, list | tuple):
        return [drop_secrets(item, extra_keys=extra) for item in value]
    return value
