"""Removing secrets from values before they are stored in the audit log or exported."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Keys that hold credentials whatever the connector: client_secret, access_token, password, ...
SECRET_KEY_PATTERN = re.compile(r"secret|token|password|passwd|api_?key|credential|encrypted", re.I)


def is_secret_key(key: str, extra: Iterable[str] = ()) -> bool:
    return key in set(extra) or bool(SECRET_KEY_PATTERN.search(str(key)))


def redact(value: Any, *, extra_keys: Iterable[str] = ()) -> Any:
    """The same shape with every secret-named key dropped, at any depth.

    A boolean under a secret-like name (``is_secret``) is a flag, not a secret, and stays.
    """
    extra = frozenset(extra_keys)
    if isinstance(value, dict):
        return {
            key: redact(item, extra_keys=extra)
            for key, item in value.items()
            if isinstance(item, bool) or not is_secret_key(key, extra)
        }
    if isinstance(value, list | tuple):
        return [redact(item, extra_keys=extra) for item in value]
    return value
