from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from designer.design.selectors import designer_data
from designer.projects.access import Capability, ProjectAccess, project_view


@project_view(Capability.VIEW)
def designer(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    return render(
        request,
        "design/designer.html",
        {"access": access, "project": access.project, "data": designer_data(access.project)},
    )
