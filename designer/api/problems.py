"""RFC 9457 problem details: every API error is ``application/problem+json``.

``{"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No such project."}``;
validation errors add ``errors: [{"field": "wait", "detail": "..."}]`` naming each field.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"

log = logging.getLogger(__name__)


class ApiProblem(Exception):
    """Raise anywhere in an API view: answered as a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_name(error: dict[str, Any]) -> str:
    """A pydantic error's location without ninja's ``query``/``body``/``path`` prefix."""
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in {"query", "body", "path", "header", "cookie", "form"}:
        loc = loc[1:]
    if loc and loc[0] in {"payload", "data", "filters", "pagination"} and len(loc) > 1:
        loc = loc[1:]
    return ".".join(loc)


def validation_errors(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    errors = []
    for error in raw:
        if "loc" in error:
            errors.append({"field": _field_name(error), "detail": str(error.get("msg", ""))})
        else:  # ninja's own shape, e.g. {"cursor": "Invalid Cursor"}
            errors.extend({"field": str(k), "detail": str(v)} for k, v in error.items())
    return errors


def install_handlers(api: Any) -> None:
    """Replace ninja's default error answers with problem documents."""
    from ninja.errors import AuthenticationError, HttpError, ValidationError

    @api.exception_handler(ApiProblem)
    def _problem(request: HttpRequest, exc: ApiProblem):
        return problem_response(
            exc.status, exc.detail, errors=exc.errors, headers=exc.headers, **exc.extra
        )

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError):
        return problem_response(
            422, "The request has invalid fields.", errors=validation_errors(exc.errors)
        )

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError):
        return problem_response(
            401,
            "Send a personal API token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError):
        return problem_response(exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404):
        return problem_response(404, str(exc) or "Not found.")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied):
        return problem_response(403, str(exc) or "Your role doesn't allow this.")

    @api.exception_handler(Exception)
    def _error(request: HttpRequest, exc: Exception):
        log.exception("API error on %s %s", request.method, request.path)
        return problem_response(500, "Internal error; it has been logged.")
