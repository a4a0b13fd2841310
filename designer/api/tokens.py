"""Personal API tokens: create (shown once), authenticate, record use, revoke."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from designer.accounts.services import token_hash
from designer.api.models import ApiToken, Scope
from designer.api.problems import ApiProblem

TOKEN_PREFIX = "idt_"  # "integration designer token": recognisable by secret scanners
# last_used_at is written at most this often per token (each API call is audited anyway).
LAST_USED_RESOLUTION = timedelta(seconds=60)


def token_create(
    *, user: Any, name: str, scopes: Iterable[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """The token row and the token itself, which is never stored and can't be shown again."""
    scopes = sorted(set(scopes))
    if not scopes or any(s not in Scope.values for s in scopes):
        raise ValueError("Choose at least one scope: read, run.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("The expiry must be in the future.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "API token",
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=token_hash(raw),
        scopes=scopes,
        expires_at=expires_at,
    )
    return token, raw


def token_revoke(*, token: ApiToken) -> bool:
    return bool(
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def token_authenticate(raw: str) -> ApiToken:
    """The token's row, or an ApiProblem(401) saying why not (only to a real token's holder
    does it say more than "not valid")."""
    token = (
        ApiToken.objects.select_related("user").filter(token_hash=token_hash(raw)).first()
        if raw.startswith(TOKEN_PREFIX)
        else None
    )
    headers = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}
    if token is None:
        raise ApiProblem(401, "This API token is not valid.", headers=headers)
    if token.revoked_at is not None:
        raise ApiProblem(401, "This API token has been revoked.", headers=headers)
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise ApiProblem(401, "This API token has expired.", headers=headers)
    # Checked on every request, so deactivating a user stops their tokens at once.
    if not token.user.is_active:
        raise ApiProblem(401, "The user of this API token is deactivated.", headers=headers)
    return token


def token_mark_used(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_audit(*, token: ApiToken, project: Any, what: str) -> None:
    """Who, with which token, did what: one history entry per API call."""
    from designer.audit.services import audit_record

    with transaction.atomic():
        audit_record(
            project=project,
            actor=token.user,
            action="api_call",
            kind="api_token",
            name=f"{token.name} ({token.prefix}…): {what}"[:200],
        )
