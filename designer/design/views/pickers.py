"""Picker options for activity forms: the account's lists, tags, custom fields, segments."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from designer.design import pickers
from designer.design.views.common import usable_connection_or_404
from designer.projects.access import Capability, ProjectAccess, project_view


@project_view(Capability.DESIGN)
@require_GET
def picker_options(
    request: HttpRequest, access: ProjectAccess, connection_id: int, kind: str
) -> HttpResponse:
    """<option>s for a picker's <datalist>: ``?field=<name>`` names the input whose value is
    the search (the last comma-separated item of a list); ``refresh=1`` skips the cache."""
    # A global endpoint shared with the project serves its activities' pickers too.
    connection = usable_connection_or_404(access, connection_id)
    typed = request.GET.get(request.GET.get("field", ""), "")
    search = typed.rsplit(",", 1)[-1].strip()
    options, error = pickers.options(
        connection, kind, search=search, refresh=request.GET.get("refresh") == "1"
    )
    context = {"options": options, "error": error, "kind": kind.replace("_", " ")}
    return render(request, "design/widgets/picker_options.html", context)
