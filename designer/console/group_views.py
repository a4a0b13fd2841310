"""Agent groups: the Agents page by group (everyone in the console), and staff's writes:
create, rename, delete a group, move a project to a group. A project Admin moves their own
project from its Settings (``project_agent_group``, behind the project access helper)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from designer.console import selectors, services
from designer.console.access import ConsoleScope, console_view, staff_view
from designer.projects.access import Capability, ProjectAccess, project_view
from designer.projects.models import Project


def agents_page(request: HttpRequest, scope: ConsoleScope, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "console/agents.html",
        {"scope": scope, "section": "agents", "groups": selectors.agent_groups(scope=scope)},
        status=status,
    )


@console_view
def agents(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    return agents_page(request, scope)


@console_view
def agent_detail(request: HttpRequest, scope: ConsoleScope, agent_id: int) -> HttpResponse:
    agent = selectors.agent_for_console(scope=scope, agent_id=agent_id)
    if agent is None:
        raise Http404("No such agent")
    return render(
        request,
        "console/agent.html",
        {
            "scope": scope,
            "section": "agents",
            "agent": agent,
            "runs": selectors.agent_recent_runs(scope=scope, agent=agent),
        },
    )


def _refused(request: HttpRequest, scope: ConsoleScope, error: Exception) -> HttpResponse:
    messages.error(request, str(error))
    return agents_page(request, scope, status=422)


@staff_view
@require_POST
def group_create(request: HttpRequest, scope: ConsoleScope) -> HttpResponse:
    try:
        group = services.agent_group_create(
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
            actor=request.user,
        )
    except services.AgentGroupError as error:
        return _refused(request, scope, error)
    messages.success(request, f"Agent group “{group.name}” created: start an agent in it.")
    return redirect(reverse("console:agents") + f"#group-{group.name}")


@staff_view
@require_POST
def group_rename(request: HttpRequest, scope: ConsoleScope, group_id: int) -> HttpResponse:
    try:
        group = services.agent_group_rename(
            group_id=group_id, name=request.POST.get("name", ""), actor=request.user
        )
    except services.AgentGroupError as error:
        return _refused(request, scope, error)
    messages.success(
        request, f"Renamed to “{group.name}”. Restart its agents with the command shown."
    )
    return redirect("console:agents")


@staff_view
@require_POST
def group_delete(request: HttpRequest, scope: ConsoleScope, group_id: int) -> HttpResponse:
    try:
        services.agent_group_delete(group_id=group_id, actor=request.user)
    except services.AgentGroupError as error:
        return _refused(request, scope, error)
    messages.success(request, "Agent group deleted.")
    return redirect("console:agents")


@staff_view
@require_POST
def project_group(request: HttpRequest, scope: ConsoleScope, pk: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=pk)
    try:
        services.project_set_agent_group(
            project=project, name=request.POST.get("agent_group", ""), actor=request.user
        )
    except services.AgentGroupError as error:
        messages.error(request, str(error))
    else:
        project.refresh_from_db()
        messages.success(request, f"“{project.name}” now runs on “{project.agent_group}”.")
    return redirect(reverse("console:projects") + f"#project-{project.pk}")


@project_view(Capability.MANAGE)
@require_POST
def project_agent_group(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    """From the project's Settings: its Admin picks the group its operations run on."""
    try:
        project = services.project_set_agent_group(
            project=access.project, name=request.POST.get("agent_group", ""), actor=request.user
        )
    except services.AgentGroupError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Operations now run on agent group “{project.agent_group}”.")
    return redirect(reverse("projects:settings", args=[access.project.pk]) + "#agent-group")
