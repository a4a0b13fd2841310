"""htmx requests from a signed-out browser (an expired session, a logout in another tab).

``login_required`` answers them with a redirect to the login page, which the browser follows
inside the XHR: htmx would then swap the whole login page into whatever the request targeted
(the presence badge in the top bar, a pane). Instead the browser is sent to the login page
(``HX-Redirect``), with ``next`` the page the user was on, not the partial's URL.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if not htmx or response.status_code not in (301, 302):
            return response
        login_url = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != urlsplit(login_url).path:
            return response
        query = QueryDict(mutable=True)
        query["next"] = htmx.current_url_abs_path or "/"
        return HttpResponseClientRedirect(f"{login_url}?{query.urlencode(safe='/')}")
