"""Friendly 403 and 404 pages, each with a way back; for htmx requests also a ``page-alert``
event, so a refusal shows its message on the page that asked instead of vanishing (htmx does
not swap error answers)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render, resolve_url
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event


def _error_page(request: HttpRequest, *, status: int, heading: str, message: str) -> HttpResponse:
    response = render(
        request, "error.html", {"heading": heading, "message": message}, status=status
    )
    if getattr(request, "htmx", False):
        trigger_client_event(response, "page-alert", {"message": message})
    return response


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = str(exception) or "You don't have access to this."
    return _error_page(request, status=403, heading="Not allowed", message=message)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # The exception's text can be a URL resolver's debug detail: not shown.
    return _error_page(
        request,
        status=404,
        heading="Not found",
        message="There is nothing here, or it is not shared with you.",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form post. From a signed-out browser (all cookies gone) an htmx request is
    sent to the login page, as HtmxLoginRedirectMiddleware does for expired sessions."""
    htmx = getattr(request, "htmx", None)
    if htmx and not request.user.is_authenticated:
        query = QueryDict(mutable=True)
        query["next"] = htmx.current_url_abs_path or "/"
        login_url = resolve_url(settings.LOGIN_URL)
        return HttpResponseClientRedirect(f"{login_url}?{query.urlencode(safe='/')}")
    return _error_page(
        request,
        status=403,
        heading="Not allowed",
        message="The page was out of date or your session ended: reload the page and try again.",
    )
