"""The designer page and its panes (htmx partials)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from designer.design.views.common import (
    int_or_none,
    page_context,
)
from designer.projects.access import Capability, ProjectAccess, project_view

PANES = {"palette", "global_endpoints", "canvas", "components"}


@project_view(Capability.VIEW)
@require_GET
def designer(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    context = page_context(request, access)
    context["open_connection"] = int_or_none(request.GET.get("connection"))
    return render(request, "design/designer.html", context)


@project_view(Capability.VIEW)
@require_GET
def pane(request: HttpRequest, access: ProjectAccess, pane: str) -> HttpResponse:
    if pane not in PANES:
        raise Http404("No such pane")
    return render(request, f"design/designer.html#{pane}", page_context(request, access))
