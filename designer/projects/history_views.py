"""The project history page and restoring a deleted component from it."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from designer.audit import selectors, services
from designer.audit.models import AuditAction, AuditEntry, with_reference_names
from designer.projects.access import Capability, ProjectAccess, project_view


@project_view(Capability.VIEW)
def project_history(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    action = request.GET.get("action", "")
    kind = request.GET.get("kind", "")
    component_id = request.GET.get("id", "")
    entries = selectors.audit_entries(
        project_id=access.project.pk,
        action=action,
        kind=kind,
        component_id=int(component_id) if component_id.isdigit() else None,
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    page.object_list = with_reference_names(page.object_list)
    return render(
        request,
        "projects/history.html",
        {
            "access": access,
            "project": access.project,
            "page": page,
            "action": action,
            "kind": kind,
            "component_id": component_id if component_id.isdigit() else "",
            "actions": AuditAction.choices,
            "kinds": selectors.audit_kinds(),
            "restorable": services.RESTORABLE,
        },
    )


@project_view(Capability.DESIGN)
@require_POST
def component_restore(request: HttpRequest, access: ProjectAccess, entry_id: int) -> HttpResponse:
    entry = AuditEntry.objects.filter(pk=entry_id, project=access.project).first()
    if entry is None:
        raise Http404("No such history entry")
    try:
        obj = services.component_restore(entry=entry, actor=request.user)
    except services.RestoreError as error:
        messages.error(request, f"Couldn't restore “{entry.component_name}”: {error}")
    else:
        messages.success(request, f"Restored {entry.component_kind} “{obj}”.")
    return redirect("projects:history", project_id=access.project.pk)


@project_view(Capability.DESIGN)
@require_POST
def component_revert(request: HttpRequest, access: ProjectAccess, entry_id: int) -> HttpResponse:
    """Put a component back as it was before the change this entry recorded."""
    entry = AuditEntry.objects.filter(pk=entry_id, project=access.project).first()
    if entry is None:
        raise Http404("No such history entry")
    try:
        obj = services.component_revert(entry=entry, actor=request.user)
    except services.RestoreError as error:
        messages.error(request, f"Couldn't restore the earlier version: {error}")
    else:
        messages.success(
            request, f"Restored the earlier version of {entry.component_kind} “{obj}”."
        )
    return redirect("projects:history", project_id=access.project.pk)
