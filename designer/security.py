"""Content-Security-Policy: every response says where scripts, styles and requests may come
from, so markup injected into a page (a connection name, a record value) can't run script.

The policy allows only this origin: no inline ``<script>``, no ``on*=``/``hx-on`` attributes,
no ``style=`` attributes, no ``eval`` (htmx's ``js:`` values and ``hx-on`` would need it), no
frames. Templates keep behaviour in ``static/js`` and looks in ``static/css``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

DEFAULT_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy() -> str:
    """The header value: DEFAULT_POLICY with any CONTENT_SECURITY_POLICY overrides."""
    policy = {**DEFAULT_POLICY, **getattr(settings, "CONTENT_SECURITY_POLICY", {})}
    return "; ".join(f"{name} {value}" for name, value in policy.items() if value)


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header unless a view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response
