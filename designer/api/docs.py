"""The API's readable docs page, rendered by the app from the OpenAPI document.

Ours rather than django-ninja's Swagger UI: it uses the app's layout and stylesheet, needs no
script (so it fits the Content-Security-Policy) and passes the same accessibility checks as
every other page. The machine-readable document stays at /api/v1/openapi.json.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from designer.api.api import api

METHODS = ("get", "post", "put", "patch", "delete")
ERRORS = [
    ("400", "the body or a value is wrong (triggers: not JSON records)"),
    ("401", "no token, or it is not valid, revoked, expired, or its user deactivated"),
    ("403", "the token lacks the scope, or your role lacks the right in that project"),
    ("404", "no such project for you (outsiders too), or no such object in it"),
    ("409", "the operation can't run as it is, is already queued, or the run already ended"),
    ("413 / 415", "trigger body too large / not JSON"),
    ("422", "invalid fields, each named in errors[].field"),
    ("429", "a trigger's rate limit, or too many runs with records waiting (Retry-After)"),
]


def _schema_type(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_schema_type(s) for s in schema["anyOf"])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_schema_type(schema.get('items', {}))}"
    return str(schema.get("type", "any"))


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, methods in doc["paths"].items():
        for method in METHODS:
            spec = methods.get(method)
            if spec is None:
                continue
            found.append(
                {
                    "anchor": spec.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "tag": (spec.get("tags") or ["other"])[0],
                    "description": spec.get("description") or spec.get("summary", ""),
                    "scope": spec.get("x-required-scope"),
                    "role": spec.get("x-required-capability"),
                    "public": not spec.get("security"),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "required": p.get("required", False),
                            "type": _schema_type(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in spec.get("parameters", [])
                    ],
                    "responses": [
                        {"status": status, "type": _response_type(answer)}
                        for status, answer in spec.get("responses", {}).items()
                    ],
                }
            )
    return found


def _response_type(answer: dict[str, Any]) -> str:
    for content_type, body in (answer.get("content") or {}).items():
        schema = body.get("schema")
        return _schema_type(schema) if schema else content_type
    return ""


def docs(request: HttpRequest) -> HttpResponse:
    doc = api.get_openapi_schema(path_prefix="/api/v1/")
    operations = _operations(doc)
    tags: dict[str, list[dict[str, Any]]] = {}
    for operation in operations:
        tags.setdefault(operation["tag"], []).append(operation)
    return render(
        request,
        "api/docs.html",
        {"info": doc["info"], "tags": tags, "errors": ERRORS},
    )
