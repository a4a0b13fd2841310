"""Errors the sandbox answers with, shaped as Constant Contact shapes them.

The V3 API answers errors with a JSON array of {error_key, error_message}
(the contract's APIErrorSchema), except 401, which is one such object (the contract's
AuthorizationErrorSchema); the OAuth2 server answers with the RFC 6749 object
{error, error_description}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VALIDATION_KEY = "contacts.api.validation.error"

# Keys Constant Contact uses for statuses that are not the endpoint's own business.
STATUS_KEYS = {
    400: VALIDATION_KEY,
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "contacts.api.conflict",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    501: "sandbox.not_implemented",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

STATUS_MESSAGES = {
    400: "Bad request. Either the JSON was malformed or there was a data validation error.",
    401: "Unauthorized",
    403: "Forbidden request. You lack the necessary scopes, you lack the necessary user "
    "privileges, or the application is deactivated.",
    404: "The requested resource was not found.",
    405: "Unsupported method used.",
    409: "Conflict. The resource you are creating or updating conflicts with an existing resource.",
    415: "Unsupported Media Type; the payload must be in JSON format, and Content-Type must be "
    "application/json",
    429: "Too many requests. You exceeded the request rate limit.",
    500: "There was a problem with our internal service.",
    502: "Bad gateway.",
    503: "Our internal service is temporarily unavailable.",
    504: "Gateway timeout.",
}


@dataclass
class ApiError(Exception):
    """An API answer other than success; `errors` becomes the JSON array body."""

    status: int
    errors: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, status: int, message: str | None = None, key: str | None = None) -> ApiError:
        return cls(
            status,
            [
                {
                    "error_key": key or STATUS_KEYS.get(status, "error"),
                    "error_message": message or STATUS_MESSAGES.get(status, "Error"),
                }
            ],
        )

    @property
    def payload(self) -> list[dict[str, str]] | dict[str, str]:
        """The JSON body: an array, but a 401 is one object (AuthorizationErrorSchema)."""
        return self.errors[0] if self.status == 401 and self.errors else self.errors

    @classmethod
    def validation(cls, messages: list[str], key: str = VALIDATION_KEY) -> ApiError:
        return cls(400, [{"error_key": key, "error_message": m} for m in messages])


@dataclass
class OAuthError(Exception):
    """An RFC 6749 error from the token endpoint (or a non-redirectable authorize error)."""

    status: int
    error: str
    description: str

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}
