from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from designer.projects import services
from designer.projects.access import Capability, ProjectAccess, project_view
from designer.projects.forms import ProjectForm, RenameProjectForm
from designer.projects.models import Membership


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("project")
        .annotate(member_count=Count("project__memberships"))
        .order_by("project__name", "project_id")
    )
    form = ProjectForm()
    if request.method == "POST":
        form = ProjectForm(request.POST)
        if form.is_valid():
            project = services.project_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                created_by=request.user,
            )
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("design:designer", project_id=project.pk)
    return render(request, "projects/project_list.html", {"memberships": memberships, "form": form})


@project_view(Capability.VIEW)
def project_settings(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    memberships = access.project.memberships.select_related("user").order_by("user__username")
    return render(
        request,
        "projects/project_settings.html",
        {
            "access": access,
            "project": access.project,
            "memberships": memberships,
            "rename_form": RenameProjectForm(instance=access.project),
        },
    )


@project_view(Capability.MANAGE)
@require_POST
def project_rename(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    form = RenameProjectForm(request.POST, instance=access.project)
    if form.is_valid():
        services.project_rename(project=access.project, name=form.cleaned_data["name"])
        if request.htmx:
            return render(
                request,
                "projects/project_settings.html#rename-form",
                {"access": access, "project": access.project, "rename_form": form, "saved": True},
            )
        messages.success(request, "Project renamed.")
        return redirect("projects:settings", project_id=access.project.pk)
    template = "projects/project_settings.html"
    if request.htmx:
        template += "#rename-form"
    return render(
        request,
        template,
        {"access": access, "project": access.project, "rename_form": form},
        status=422,
    )


@project_view(Capability.MANAGE)
@require_POST
def project_delete(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    name = access.project.name
    services.project_delete(project=access.project)
    messages.success(request, f"Project “{name}” deleted.")
    return redirect("projects:list")
