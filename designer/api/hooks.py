"""POST /api/v1/hooks/<key>/: the inbound API trigger of one operation.

No token: the URL key (and, in HMAC mode, the signature) is the credential. Checked in this
order, each with its own 4xx: the key (404), disabled (403), the declared size (413), the
signature (401), the rate limit (429), the body (400/413/415), the run (409/429).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router

from designer.api.problems import ApiProblem
from designer.api.running import start_run, started_answer
from designer.api.schemas import PROBLEM_SCHEMA, RunStarted
from designer.api.triggers import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    parse_records,
    trigger_check_signature,
    trigger_for_key,
    trigger_mark_used,
    trigger_rate_limit,
)
from designer.runs.models import RunTrigger

router = Router()

TRIGGER_PROBLEMS = {
    400: "The body is not JSON records (an object or an array of objects)",
    401: "Signed trigger: missing, wrong or stale signature",
    403: "The trigger is disabled",
    404: "No such trigger (or its secret was rotated)",
    409: "The operation can't run, is already queued (no records), or a signed request came twice",
    413: "The body is too large, or has too many records",
    415: "The body is not JSON",
    422: "Invalid query fields (wait)",
    429: "The trigger's rate limit, or too many runs with records waiting (Retry-After)",
}


def _read_body(request: HttpRequest) -> bytes:
    """The body, refused past API_TRIGGER_MAX_BODY_BYTES without reading more than that."""
    limit = settings.API_TRIGGER_MAX_BODY_BYTES
    too_big = ApiProblem(413, f"The body is larger than {limit} bytes.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiProblem(400, "Bad Content-Length.") from None
    if declared > limit:
        raise too_big
    # Read from the stream: request.body would apply Django's own (smaller) memory limit.
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_big
    return body


@router.post(
    "/hooks/{key}/",
    auth=None,
    response={200: RunStarted, 202: RunStarted},
    tags=["triggers"],
    url_name="hook",
    openapi_extra={
        "responses": {
            status: {
                "description": text,
                "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
            }
            for status, text in TRIGGER_PROBLEMS.items()
        }
    },
)
def hook(
    request: HttpRequest,
    key: str,
    wait: int = Query(
        0,
        ge=0,
        le=settings.API_MAX_WAIT_SECONDS,
        description="Synchronous mode: seconds to wait for the run's result",
    ),
):
    """Start a run of the trigger's operation. A JSON body (an object, or an array of
    objects) becomes the run's records instead of its source's; an empty body runs the
    operation as it is. 202 with the run's status. Synchronous mode, ``?wait=N``: 200 with
    the result if it ends within N seconds - counters, failed records, and ``response``: for
    each record, what the operation's last step gave (the last target's result, or the
    records of a response transformation after it), bounded and marked ``truncated`` past
    the bound."""
    trigger = trigger_for_key(key)
    body = _read_body(request)
    trigger_check_signature(
        trigger=trigger,
        body=body,
        timestamp=request.headers.get(TIMESTAMP_HEADER),
        signature=request.headers.get(SIGNATURE_HEADER),
    )
    trigger_rate_limit(trigger=trigger)
    records = parse_records(body, request.content_type or "")
    run = start_run(
        operation=trigger.operation,
        trigger=RunTrigger.API_TRIGGER,
        records=records,
        keep_response=wait > 0,
    )
    trigger_mark_used(trigger=trigger)
    return started_answer(run, wait)
