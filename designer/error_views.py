"""Friendly 403 and 404 pages, each with a way back; for htmx requests also a ``page-alert``
event, so a refusal shows its message on the page that asked instead of vanishing (htmx does
not swap error answers)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event


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
