"""The sandbox's own control API under /_sandbox/ (JSON), for other processes.

POST /_sandbox/apps       {"client_id", "client_secret", "redirect_uris"?: [...]}
POST /_sandbox/tokens     {"client_id", "scopes"?: [...]}            -> token response
POST /_sandbox/configure  {knob: value, ...}                          -> all knobs
POST /_sandbox/faults     {"status", "count"?, "path_prefix"?, "delay"?, "when"?: "before"|"after",
                           "drop"?: true (close the connection, no answer)}
                          or {"action": "expire_access_tokens"}
                          or {"action": "revoke_refresh_token", "refresh_token"?, "client_id"?}
                          or {"action": "rotate_refresh_token", "refresh_token"}
                             -> {"refresh_token": new}
POST /_sandbox/seed       {"contacts": n, "lists"?: [names or ids]}
POST /_sandbox/reset      {}
GET  /_sandbox/requests   ?since=<seq>                                -> {"requests": [...]}
GET  /_sandbox/stats                                      -> counts, knobs, pending faults
GET  /_sandbox/rate      -> per API key: calls, max in any sliding second, 429s answered
GET  /_sandbox/contacts   ?include_deleted=true                       -> {"contacts": [...]}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .service import Response, SandboxService

ControlHandler = Callable[[SandboxService, dict[str, Any], dict[str, str]], Response]


def _apps(service: SandboxService, body: dict[str, Any], _: dict[str, str]) -> Response:
    service.register_app(body["client_id"], body["client_secret"], body.get("redirect_uris"))
    return Response(201, {"client_id": body["client_id"]})


def _tokens(service: SandboxService, body: dict[str, Any], _: dict[str, str]) -> Response:
    scopes = body.get("scopes")
    if scopes is None:
        return Response(200, service.issue_tokens(body["client_id"]))
    return Response(200, service.issue_tokens(body["client_id"], scopes))


def _configure(service: SandboxService, body: dict[str, Any], _: dict[str, str]) -> Response:
    return Response(200, service.configure(**body))


def _faults(service: SandboxService, body: dict[str, Any], _: dict[str, str]) -> Response:
    action = body.get("action", "inject")
    if action == "inject":
        service.inject(
            int(body["status"]),
            int(body.get("count", 1)),
            body.get("path_prefix"),
            float(body.get("delay", 0)),
            str(body.get("when", "before")),
            body.get("drop") is True,
        )
        return Response(201, {"faults": service.stats()["faults"]})
    if action == "expire_access_tokens":
        return Response(200, {"expired": service.expire_access_tokens()})
    if action == "revoke_refresh_token":
        return Response(
            200,
            {
                "revoked": service.revoke_refresh_token(
                    body.get("refresh_token"), body.get("client_id")
                )
            },
        )
    if action == "rotate_refresh_token":
        return Response(200, {"refresh_token": service.rotate_refresh_token(body["refresh_token"])})
    raise ValueError(f"unknown action {action!r}")


def _seed(service: SandboxService, body: dict[str, Any], _: dict[str, str]) -> Response:
    added = service.seed_contacts(int(body.get("contacts", 0)), body.get("lists"))
    return Response(201, {"added": added, "contacts": service.stats()["contacts"]})


def _reset(service: SandboxService, body: dict[str, Any], _: dict[str, str]) -> Response:
    service.reset()
    return Response(200, {"reset": True})


def _requests(service: SandboxService, _: dict[str, Any], query: dict[str, str]) -> Response:
    since = int(query.get("since", 0))
    return Response(200, {"requests": [entry.as_dict() for entry in service.requests(since)]})


def _stats(service: SandboxService, _: dict[str, Any], query: dict[str, str]) -> Response:
    return Response(200, service.stats())


def _rate(service: SandboxService, _: dict[str, Any], query: dict[str, str]) -> Response:
    return Response(200, service.rate_measured())


def _contacts(service: SandboxService, _: dict[str, Any], query: dict[str, str]) -> Response:
    return Response(200, {"contacts": service.all_contacts(query.get("include_deleted") == "true")})


ROUTES: dict[tuple[str, str], ControlHandler] = {
    ("POST", "/_sandbox/apps"): _apps,
    ("POST", "/_sandbox/tokens"): _tokens,
    ("POST", "/_sandbox/configure"): _configure,
    ("POST", "/_sandbox/faults"): _faults,
    ("POST", "/_sandbox/seed"): _seed,
    ("POST", "/_sandbox/reset"): _reset,
    ("GET", "/_sandbox/requests"): _requests,
    ("GET", "/_sandbox/stats"): _stats,
    ("GET", "/_sandbox/rate"): _rate,
    ("GET", "/_sandbox/contacts"): _contacts,
}


def handle_control(service: SandboxService, method: str, target: str, raw_body: bytes) -> Response:
    parts = urlsplit(target)
    handler = ROUTES.get((method, parts.path.rstrip("/")))
    if handler is None:
        return Response(404, {"error": f"no control endpoint {method} {parts.path}"})
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        body = json.loads(raw_body) if raw_body.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("send a JSON object")
        return handler(service, body, query)
    except KeyError as error:
        return Response(400, {"error": f"missing or unknown {error}"})
    except (ValueError, TypeError) as error:
        return Response(400, {"error": str(error)})
