"""API triggers: a POST to an operation's secret (or signed) URL starts a run.

Secret URL mode: the random key in ``/api/v1/hooks/<key>/`` is the credential.
HMAC mode: the key only names the trigger; each request carries
``X-Signature-Timestamp: <unix seconds>`` and
``X-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``, checked within
API_TRIGGER_SIGNATURE_TOLERANCE seconds; a signature is accepted once (replays are refused).

The rate limit and the once-only check count in the connectors' shared store
(``connectors.sharedstate``): Redis when REDIS_URL is set, else one SQLite file under
CONNECTOR_STATE_DIR, so every web process of the deployment counts against the same limit
(a per-process count would let N processes accept N times the limit).

A JSON body (one object or an array of objects) becomes the run's input records, through the
same ``OperationRun.input_records`` that "Re-run failed records" uses: the transformation and
target get them instead of the source's records, and the run keeps them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors.sharedstate import (
    StoreUnavailable,
    fallback_store,
    hashed_key,
    shared_store,
    warn_fallback,
)
from designer.accounts.services import token_hash
from designer.api.models import ApiTrigger, TriggerMode
from designer.api.problems import ApiProblem
from designer.audit.services import audit_record
from designer.crypto import decrypt_json, encrypt_json
from designer.design.models import Operation

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Signature-Timestamp"


@dataclass(frozen=True)
class TriggerSecrets:
    """What the user sees once, after creating or rotating: never stored in clear."""

    url_path: str
    signing_secret: str | None


def _new_credentials(mode: str) -> tuple[dict[str, Any], TriggerSecrets]:
    key = secrets.token_urlsafe(32)
    values: dict[str, Any] = {
        "key_hash": token_hash(key),
        "key_prefix": key[:6],
        "secret_encrypted": "",
        "rotated_at": timezone.now(),
    }
    signing = None
    if mode == TriggerMode.HMAC:
        signing = "whsec_" + secrets.token_urlsafe(32)
        values["secret_encrypted"] = encrypt_json({"secret": signing})
    return values, TriggerSecrets(url_path=f"/api/v1/hooks/{key}/", signing_secret=signing)


def trigger_save(
    *, operation: Operation, mode: str, user: Any
) -> tuple[ApiTrigger, TriggerSecrets]:
    """Create the operation's trigger, or change its mode; either way new credentials."""
    if mode not in TriggerMode.values:
        raise ValueError("Choose a secret URL or signed requests.")
    values, shown = _new_credentials(mode)
    with transaction.atomic():
        trigger, created = ApiTrigger.objects.update_or_create(
            operation=operation,
            defaults={**values, "mode": mode, "enabled": True},
            create_defaults={**values, "mode": mode, "enabled": True, "created_by": user},
        )
        audit_record(
            project=operation.project,
            actor=user,
            action="create" if created else "update",
            kind="api_trigger",
            name=f"API trigger of {operation.name} ({trigger.get_mode_display()}); new secret",
        )
    return trigger, shown


def trigger_rotate(*, trigger: ApiTrigger, user: Any) -> TriggerSecrets:
    return trigger_save(operation=trigger.operation, mode=trigger.mode, user=user)[1]


def trigger_delete(*, trigger: ApiTrigger, user: Any) -> None:
    with transaction.atomic():
        audit_record(
            project=trigger.operation.project,
            actor=user,
            action="delete",
            kind="api_trigger",
            name=f"API trigger of {trigger.operation.name}",
        )
        trigger.delete()


def trigger_for_key(key: str) -> ApiTrigger:
    trigger = (
        ApiTrigger.objects.select_related("operation__project")
        .filter(key_hash=token_hash(key))
        .first()
    )
    if trigger is None:
        raise ApiProblem(404, "No such trigger.")
    if not trigger.enabled:
        raise ApiProblem(403, "This trigger is disabled.")
    return trigger


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def trigger_check_signature(
    *, trigger: ApiTrigger, body: bytes, timestamp: str | None, signature: str | None
) -> None:
    if trigger.mode != TriggerMode.HMAC:
        return
    if not timestamp or not signature:
        raise ApiProblem(
            401, f"Signed trigger: send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers."
        )
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise ApiProblem(401, f"{TIMESTAMP_HEADER} must be Unix seconds.") from None
    if abs(time.time() - sent_at) > settings.API_TRIGGER_SIGNATURE_TOLERANCE:
        raise ApiProblem(401, f"{TIMESTAMP_HEADER} is too old or in the future.")
    secret = decrypt_json(trigger.secret_encrypted).get("secret", "")
    expected = signature_for(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise ApiProblem(401, "The signature does not match the body.")
    # A signed request is accepted once: the same one sent again within the tolerance (a
    # replay, or a sender's blind retry) would start a second run. Counted on the day of its
    # own timestamp, so a replay after midnight still finds it.
    seen = hashed_key("api-trigger-signature", f"{trigger.key_hash}:{expected}")
    first, _ = _count(seen, _utc_day(sent_at), limit=1)
    if not first:
        raise ApiProblem(
            409,
            "This signed request was already received; sign each request with a new "
            f"{TIMESTAMP_HEADER}.",
        )


def _utc_day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


def _count(key: str, day: str, *, limit: int) -> tuple[bool, int]:
    """One atomic count-unless-at-limit in the shared store (its daily counter, keyed here by
    the window); this process alone if the store is unavailable, as connector pacing does."""
    try:
        return shared_store().count_call(key, day, limit)
    except StoreUnavailable as exc:
        warn_fallback("api-triggers", exc)
        return fallback_store().count_call(key, day, limit)


def trigger_rate_limit(*, trigger: ApiTrigger) -> None:
    """At most API_TRIGGER_RATE_PER_MINUTE accepted requests per trigger per minute: a fixed
    window counted in the shared store, by every web process of the deployment. The key is
    the trigger's key hash (a rotation starts a new count), hashed again: it never shows."""
    limit = settings.API_TRIGGER_RATE_PER_MINUTE
    if limit <= 0:
        return
    window = int(time.time() // 60)
    key = hashed_key("api-trigger-rate", f"{trigger.key_hash}:{window}")
    accepted, _ = _count(key, _utc_day(window * 60), limit=limit)
    if not accepted:
        retry = 60 - int(time.time()) % 60
        raise ApiProblem(
            429,
            f"Rate limit: at most {limit} requests per minute to this trigger.",
            headers={"Retry-After": str(retry)},
        )


def parse_records(body: bytes, content_type: str) -> list[dict[str, Any]] | None:
    """None for an empty body (the run reads its source); else the records, or a 4xx."""
    if not body.strip():
        return None
    if content_type.split(";")[0].strip().lower() not in {"application/json", ""}:
        raise ApiProblem(415, "Send the records as JSON (Content-Type: application/json).")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, f"The body is not valid JSON: {exc}.") from None
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise ApiProblem(400, "The body must be a JSON object or an array of objects.")
    if not data:
        raise ApiProblem(400, "The array has no records.")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ApiProblem(
                400,
                f"Record {index} is not a JSON object.",
                errors=[{"field": f"[{index}]", "detail": "not an object"}],
            )
    if len(data) > settings.API_TRIGGER_MAX_RECORDS:
        raise ApiProblem(413, f"At most {settings.API_TRIGGER_MAX_RECORDS} records per request.")
    return data


def trigger_mark_used(*, trigger: ApiTrigger) -> None:
    ApiTrigger.objects.filter(pk=trigger.pk).update(last_used_at=timezone.now())
