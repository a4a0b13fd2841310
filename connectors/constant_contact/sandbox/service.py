"""The sandbox's brain: one request in, one response out, independent of the HTTP server.

Everything stateful (store, tokens, rate limiter, faults, request log) lives here behind
one re-entrant lock. Waits (latency, injected delays) happen outside the lock so a slow
call never stalls the others.
"""

from __future__ import annotations

import base64
import json
import math
import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.constant_contact import contract

from . import api
from .activities import BulkActivities
from .catalog import Catalog
from .clock import Clock
from .contact_model import SUBRESOURCES, shape
from .contacts import ContactService
from .errors import ApiError, OAuthError
from .faults import AFTER, BEFORE, Fault, FaultInjector
from .knobs import Knobs
from .oauth import DEFAULT_SCOPES, OAuthServer
from .ratelimit import RateLimiter
from .requestlog import LoggedRequest, RequestLog
from .seed import seed_contacts
from .store import Store

AUTHORIZE_PATH = "/oauth2/default/v1/authorize"
TOKEN_PATH = "/oauth2/default/v1/token"
JSON_BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able, or None for no body
    headers: dict[str, str] = field(default_factory=dict)
    fault: str = ""  # BEFORE / AFTER: a fault answered instead (logged, for tests)
    drop: bool = False  # no answer: the server closes the connection (logged as status 0)
    raw: bytes | None = None  # a non-JSON body (the CSV of a contact export), as is
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


def _envelope(template: str, body: Any) -> Any:
    """The part of a request body the sandbox validates up front.

    Constant Contact does not refuse a JSON import for a bad row: the row fails inside
    the activity (activity_errors). So the rows are checked there, one by one, and here
    only the envelope (list_ids, the shape of import_data) is - which also spares
    seconds of schema validation on a 40,000-row import.
    """
    if template == "/activities/contacts_json_import" and isinstance(body, dict):
        rows = body.get("import_data")
        if isinstance(rows, list):
            return {**body, "import_data": []}
    return body


def _basic_user(authorization: str | None) -> str | None:
    """The client_id of an HTTP Basic header, for the request log (None if absent or bad)."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(authorization[6:].strip()).decode().partition(":")[0] or None
    except (ValueError, UnicodeDecodeError):
        return None


def _media_type(content_type: str | None) -> str | None:
    return content_type.split(";", 1)[0].strip().lower() if content_type else None


class SandboxService:
    def __init__(
        self,
        seed: int = 0,
        rng_seed: int = 1,
        apps: Iterable[tuple[str, str]] = (),
        clock: Clock | None = None,
        **knobs: Any,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.initial_seed = seed
        self.initial_apps = list(apps)
        self.initial_knobs = Knobs()
        self.initial_knobs.update(**knobs)
        self.rng_seed = rng_seed
        self.knobs = Knobs()
        self.store = Store()
        self.oauth = OAuthServer(clock=self.clock)
        self.limiter = RateLimiter(clock=self.clock)
        self.faults = FaultInjector()
        self.log = RequestLog()
        self.generation = 0
        self.reset()

    # ================================================================== controls

    def reset(self) -> None:
        """Back to the state right after construction: data, tokens, apps, knobs, log."""
        with self.lock:
            self.knobs = Knobs(**self.initial_knobs.as_dict())
            self.rng = random.Random(self.rng_seed)
            self.clock.reset()
            self.store.clear()
            self.catalog = Catalog(self.store, self.clock)
            self.contacts = ContactService(self.store, self.clock)
            self.activities = BulkActivities(self.store, self.contacts, self.knobs, self.clock)
            self.catalog.seed_structure()
            self.oauth.reset()
            self.limiter.reset()
            self.faults.clear()
            self.log = RequestLog(self.knobs.request_log_size)
            # Calls still in flight (a delayed one whose client gave up) belong to the
            # previous generation: they must not touch the new state or its log.
            self.generation += 1
            for client_id, secret in self.initial_apps:
                self.oauth.register_app(client_id, secret)
            if self.initial_seed:
                seed_contacts(self.store, self.initial_seed)

    def configure(self, **changes: Any) -> dict[str, Any]:
        with self.lock:
            self.knobs.update(**changes)
            self.log.resize(self.knobs.request_log_size)
            return self.knobs.as_dict()

    def register_app(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None
    ) -> None:
        with self.lock:
            self.oauth.register_app(client_id, client_secret, redirect_uris)

    def issue_tokens(
        self, client_id: str, scopes: Iterable[str] = DEFAULT_SCOPES
    ) -> dict[str, Any]:
        with self.lock:
            return self.oauth.issue_tokens(client_id, tuple(scopes), self.knobs.token_lifetime)

    def inject(
        self,
        status: int,
        count: int = 1,
        path_prefix: str | None = None,
        delay: float = 0,
        when: str = BEFORE,
        drop: bool = False,
    ) -> None:
        with self.lock:
            self.faults.add(status, count, path_prefix, delay, when, drop)

    def expire_access_tokens(self) -> int:
        with self.lock:
            return self.oauth.expire_access_tokens()

    def revoke_refresh_token(
        self, refresh_token: str | None = None, client_id: str | None = None
    ) -> int:
        with self.lock:
            return self.oauth.revoke_refresh_token(refresh_token, client_id)

    def rotate_refresh_token(self, old: str) -> str:
        with self.lock:
            return self.oauth.rotate_refresh_token(old)

    def seed_contacts(self, count: int, lists: Iterable[str] | None = None) -> int:
        """Add `count` seed contacts over `lists` (names or ids; default: the seeded lists)."""
        with self.lock:
            list_ids = None
            if lists is not None:
                list_ids = []
                for ref in lists:
                    if ref in self.store.lists:
                        list_ids.append(ref)
                    else:
                        found = self.store.list_by_name(ref) or self.catalog.add_list(ref)
                        list_ids.append(found["list_id"])
            return len(seed_contacts(self.store, count, list_ids))

    def requests(self, since: int = 0) -> list[LoggedRequest]:
        with self.lock:
            return self.log.entries(since)

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        """A copy of one contact with every sub-resource (deleted ones too), for assertions."""
        with self.lock:
            found = self.store.contacts.get(contact_id)
            return shape(found, set(SUBRESOURCES)) if found else None

    def contact_by_email(self, address: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.store.contact_by_email(address)
            return shape(found, set(SUBRESOURCES)) if found else None

    def all_contacts(self, include_deleted: bool = False) -> list[dict[str, Any]]:
        with self.lock:
            return [
                shape(self.store.contacts[cid], set(SUBRESOURCES))
                for cid in self.store.order
                if include_deleted or not self.store.contacts[cid]["_deleted"]
            ]

    def lists(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {k: v for k, v in x.items() if not k.startswith("_")}
                for x in self.store.lists.values()
            ]

    def custom_fields(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {k: v for k, v in x.items() if not k.startswith("_")}
                for x in self.store.custom_fields.values()
            ]

    def tags(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {k: v for k, v in x.items() if not k.startswith("_")}
                for x in self.store.tags.values()
            ]

    def rate_measured(self) -> dict[str, Any]:
        """Per API key: calls, the most in any sliding second, and the 429s answered."""
        with self.lock:
            return self.limiter.measured()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            entries = self.log.entries()
            live = sum(1 for c in self.store.contacts.values() if not c["_deleted"])
            return {
                "contacts": {
                    "total": len(self.store.contacts),
                    "live": live,
                    "deleted": len(self.store.contacts) - live,
                },
                "lists": len(self.store.lists),
                "custom_fields": len(self.store.custom_fields),
                "tags": len(self.store.tags),
                "activities": dict(Counter(a.state for a in self.store.activities.values())),
                "requests": len(entries),
                "statuses": {
                    str(k): v for k, v in sorted(Counter(e.status for e in entries).items())
                },
                "apps": sorted(self.oauth.apps),
                "knobs": self.knobs.as_dict(),
                "faults": self.faults.pending(),
            }

    # ================================================================== requests

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes
    ) -> Response:
        """Answer one HTTP request (anything but /_sandbox/, which the server routes itself)."""
        arrived = self.clock.time()
        generation = self.generation
        parts = urlsplit(target)
        path = parts.path or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        content_type = headers.get("Content-Type")
        logged_body: Any = None
        client_id: str | None = None
        try:
            if path in (AUTHORIZE_PATH, TOKEN_PATH):
                response, logged_body = self._oauth(method, path, query, headers, raw_body)
                client_id = _basic_user(headers.get("Authorization")) or (logged_body or {}).get(
                    "client_id"
                )
            elif path == "/v3" or path.startswith("/v3/"):
                response, logged_body, client_id = self._api(
                    method, path, query, headers, raw_body, generation
                )
            else:
                response = Response(
                    404, [{"error_key": "not_found", "error_message": f"No such endpoint {path}"}]
                )
        except ApiError as error:
            response = Response(error.status, error.payload, dict(error.headers))
        except Exception as error:  # a sandbox bug: answer (and log) it rather than hang up
            traceback.print_exc()
            response = Response(
                500, [{"error_key": "sandbox.internal_error", "error_message": repr(error)}]
            )
        with self.lock:
            if generation != self.generation:
                return response  # from before a reset: not part of the new log
            self.log.add(
                timestamp=arrived,
                method=method,
                path=path,
                query=query,
                status=response.status,
                client_id=client_id,
                content_type=content_type,
                json=logged_body,
                fault=response.fault,
            )
        return response

    # ------------------------------------------------------------------ faults

    def _take_fault(self, path: str) -> Fault | None:
        """The next scripted fault for ``path``, after its delay (None: answer normally)."""
        with self.lock:
            fault = self.faults.take(path)
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        return None if fault.status in (0, 200) and not fault.drop else fault

    def _injected(self, path: str) -> Response | None:
        fault = self._take_fault(path)
        if fault is None:
            return None
        return _fault_response(fault.status, BEFORE, drop=fault.drop)

    # ------------------------------------------------------------------ OAuth2

    def _oauth(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        raw_body: bytes,
    ) -> tuple[Response, Any]:
        injected = self._injected(path)  # only faults whose path_prefix names /oauth2 match
        if injected is not None and injected.drop:
            return injected, None
        if injected is not None:
            return Response(
                injected.status, {"error": "server_error", "error_description": "Injected fault."}
            ), None
        if path == AUTHORIZE_PATH:
            params = {k: v[-1] for k, v in query.items()}
            if method not in ("GET", "POST"):
                return Response(
                    405, {"error": "invalid_request", "error_description": "Use GET."}
                ), params
            try:
                with self.lock:
                    location = self.oauth.authorize(params)
            except OAuthError as error:
                return Response(error.status, error.body()), params
            return Response(302, None, {"Location": location}), params

        form = {
            k: v[-1]
            for k, v in parse_qs(
                raw_body.decode("utf-8", "replace"), keep_blank_values=True
            ).items()
        }
        if method != "POST":
            return Response(
                405, {"error": "invalid_request", "error_description": "Use POST."}
            ), form
        if _media_type(headers.get("Content-Type")) != "application/x-www-form-urlencoded":
            return Response(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Send application/x-www-form-urlencoded.",
                },
            ), form
        try:
            with self.lock:
                answer = self.oauth.token(form, headers.get("Authorization"), self.knobs)
        except OAuthError as error:
            extra = {"WWW-Authenticate": 'Basic realm="sandbox"'} if error.status == 401 else {}
            return Response(error.status, error.body(), extra), form
        return Response(200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"}), form

    # ------------------------------------------------------------------ the V3 API

    def _api(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        raw_body: bytes,
        generation: int,
    ) -> tuple[Response, Any, str | None]:
        body: Any = None
        content_type = headers.get("Content-Type")
        media_type = _media_type(content_type)
        body_error: str | None = None
        looks_json = (
            media_type is None or media_type == "application/json" or media_type.endswith("+json")
        )
        if raw_body and looks_json:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body_error = "The request body is not valid JSON."

        if self.knobs.latency:
            time.sleep(self.knobs.latency)
        fault = self._take_fault(path)
        if fault is not None and fault.when == BEFORE:
            return _fault_response(fault.status, BEFORE, drop=fault.drop), body, None
        lost_answer = fault.status if fault is not None else 0  # an AFTER fault
        drop_answer = fault is not None and fault.drop

        with self.lock:
            if generation != self.generation:
                return Response(503, ApiError.of(503, "The sandbox was reset.").errors), body, None
            if self.knobs.error_rate and self.rng.random() < self.knobs.error_rate:
                status = self.rng.choice((500, 503))
                share = self.knobs.error_after_share
                if not share or self.rng.random() >= share:  # no extra draw when 0: same seeds
                    return _fault_response(status, BEFORE), body, None
                lost_answer = lost_answer or status
            response, client_id = self._api_call(
                method, path, query, headers, raw_body, body, body_error, media_type
            )
        if lost_answer or drop_answer:
            # The call took effect above; the client only ever sees the fault.
            return _fault_response(lost_answer, AFTER, drop=drop_answer), body, client_id
        return response, body, client_id

    def _api_call(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        raw_body: bytes,
        body: Any,
        body_error: str | None,
        media_type: str | None,
    ) -> tuple[Response, str | None]:
        """Authenticate and answer one API call (under the lock): (response, client_id)."""
        try:
            token = self.oauth.authenticate(headers.get("Authorization"))
        except ApiError as error:  # still log the body: tests re-validate every call
            return Response(error.status, error.payload), None
        try:
            response = self._authorized(
                method, path, query, raw_body, body, body_error, media_type, token
            )
        except ApiError as error:
            response = Response(error.status, error.payload, dict(error.headers))
        return response, token.client_id

    def _authorized(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        raw_body: bytes,
        body: Any,
        body_error: str | None,
        media_type: str | None,
        token: Any,
    ) -> Response:
        if not self.limiter.allow(
            token.client_id, self.knobs.rate_limit, sliding=self.knobs.sliding_window
        ):
            throttled = ApiError.of(
                429,
                "Too many requests. You exceeded the rate limit of "
                f"{self.knobs.rate_limit:g} requests per second.",
                "throttled",
            )
            # Constant Contact documents when to retry; a client that ignores it should
            # learn here, not in production. The window is 1 s, so 1 s always suffices.
            throttled.headers["Retry-After"] = "1"
            raise throttled
        if not self.limiter.within_quota(token.client_id, self.knobs.daily_quota):
            exhausted = ApiError.of(
                429,
                f"You exceeded your daily quota of {self.knobs.daily_quota} requests.",
                "quota_exceeded",
            )
            exhausted.headers["Retry-After"] = str(_seconds_to_utc_midnight(self.clock.time()))
            raise exhausted
        found = contract.find_operation(method, path)
        if found is None:
            if contract.find_path_template(path) is None:
                raise ApiError.of(404, f"No such endpoint: {contract.strip_base_path(path)}")
            raise ApiError.of(
                405, f"{method} is not supported on {contract.strip_base_path(path)}."
            )
        template, operation = found
        missing = contract.required_scopes(operation) - token.scopes
        if missing:
            raise ApiError.of(
                403,
                f"The access token lacks the scope(s): {', '.join(sorted(missing))}.",
                "forbidden",
            )
        takes_body = any(
            p["in"] == "body" for p in contract.operation_parameters(template, operation)
        )
        if method in JSON_BODY_METHODS and takes_body and (raw_body or media_type):
            if media_type != "application/json" and not (media_type or "").endswith("+json"):
                raise ApiError.of(415)
            if body_error:
                raise ApiError.validation([body_error])
        problems = contract.validate_request(
            method,
            path,
            query,
            _envelope(template, body),
            "application/json" if body is not None else None,
        )
        if problems:
            raise ApiError.validation(problems)
        handler = api.ROUTES.get((method, template))
        if handler is None:
            raise ApiError.of(501, f"The sandbox does not implement {method} {template}.")
        self.activities.advance_due()
        request = api.ApiRequest(
            method=method,
            path=path,
            template=template,
            path_params=contract.path_params(template, path),
            query={k: v[-1] for k, v in query.items()},
            body=body,
            body_size=len(raw_body),
            client_id=token.client_id,
        )
        status, answer = handler(self, request)
        if isinstance(answer, api.RawBody):
            return Response(status, raw=answer.data, content_type=answer.content_type)
        return Response(status, answer)


def _seconds_to_utc_midnight(now: float) -> int:
    """The daily quota resets at 00:00 UTC."""
    return max(1, math.ceil(86_400 - now % 86_400))


def _fault_response(status: int, when: str, *, drop: bool = False) -> Response:
    if drop:
        return Response(0, None, fault=when, drop=True)
    return Response(status, ApiError.of(status).payload, fault=when)
