"""Encryption of stored credentials (Fernet; MultiFernet so keys can rotate)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.CREDENTIALS_KEYS))


def encrypt_json(value: dict[str, Any]) -> str:
    if not value:
        return ""
    return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError(
            "Stored credentials can't be decrypted: CREDENTIALS_KEYS lacks the key they were "
            "encrypted with."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt with the primary key (the first of CREDENTIALS_KEYS)."""
    return fernet().rotate(token.encode()).decode() if token else ""
