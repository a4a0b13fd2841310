from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from designer.projects import services
from designer.projects.access import Capability, ProjectAccess, project_view
from designer.projects.forms import (
    InviteForm,
    ProjectForm,
    RenameProjectForm,
    RoleForm,
    VariableForm,
)
from designer.projects.models import Membership, Role, Variable


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


def _settings_context(request: HttpRequest, access: ProjectAccess, **extra) -> dict:
    project = access.project
    memberships = project.memberships.select_related("user").order_by("user__username")
    variables = list(project.variables.all())
    context = {
        "access": access,
        "project": project,
        "memberships": memberships,
        # Roles waiting for an invited email's account (rows of designer.accounts).
        "pending_invitations": project.pending_invitations.select_related("invitation"),
        "roles": Role.choices,
        "rename_form": RenameProjectForm(instance=project),
        "invite_form": InviteForm(),
        "variables": [(v, VariableForm(variable=v, prefix=f"v{v.pk}")) for v in variables],
        "variable_form": VariableForm(),
    }
    context.update(extra)
    return context


@project_view(Capability.VIEW)
def project_settings(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    return render(request, "projects/project_settings.html", _settings_context(request, access))


def _members_response(request: HttpRequest, access: ProjectAccess, status: int = 200, **extra):
    """The members card for htmx, the settings page otherwise."""
    if request.htmx:
        context = _settings_context(request, access, **extra)
        return render(request, "projects/project_settings.html#members", context, status=status)
    return redirect("projects:settings", project_id=access.project.pk)


@project_view(Capability.MANAGE)
@require_POST
def member_invite(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            membership = services.member_invite(
                project=access.project,
                username_or_email=form.cleaned_data["username_or_email"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except services.MembershipError as error:
            form.add_error("username_or_email", str(error))
        else:
            if isinstance(membership, Membership):
                note = f"{membership.user.get_username()} added as {membership.get_role_display()}."
            else:  # a pending invitation (designer.accounts): the role waits for the account
                note = (
                    f"{form.cleaned_data['username_or_email']} has no account yet: an invitation "
                    f"was emailed; they join as {membership.get_role_display()} once it is created."
                )
            if not request.htmx:
                messages.success(request, note)
            return _members_response(request, access, member_note=note)
    if not request.htmx:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return _members_response(request, access, status=422, invite_form=form)


@project_view(Capability.MANAGE)
@require_POST
def member_change_role(
    request: HttpRequest, access: ProjectAccess, membership_id: int
) -> HttpResponse:
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise services.MembershipError("Choose one of the roles.")
        membership = services.member_change_role(
            project=access.project,
            membership_id=membership_id,
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    except services.MembershipError as error:
        if not request.htmx:
            messages.error(request, str(error))
        return _members_response(request, access, status=422, member_error=str(error))
    note = f"{membership.user.get_username()} is now {membership.get_role_display()}."
    if membership.user_id == request.user.pk and membership.role != Role.ADMIN:
        # I demoted myself: the whole settings page changes (no more management), so the
        # browser loads it again rather than htmx swapping it into the members card.
        messages.success(request, note)
        return _full_page_redirect(request, reverse("projects:settings", args=[access.project.pk]))
    if not request.htmx:
        messages.success(request, note)
    return _members_response(request, access, member_note=note)


def _full_page_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Leave the page: a client-side redirect for htmx, a plain one otherwise."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@project_view(Capability.MANAGE)
@require_POST
def member_remove(request: HttpRequest, access: ProjectAccess, membership_id: int) -> HttpResponse:
    try:
        membership = access.project.memberships.select_related("user").filter(pk=membership_id)
        target = membership.first()
        services.member_remove(
            project=access.project, membership_id=membership_id, actor=request.user
        )
    except services.MembershipError as error:
        if not request.htmx:
            messages.error(request, str(error))
        return _members_response(request, access, status=422, member_error=str(error))
    note = f"{target.user.get_username()} removed." if target else "Removed."
    if target is not None and target.user_id == request.user.pk:
        # I left the project: nothing of it is mine to see any more.
        messages.success(request, note)
        return _full_page_redirect(request, reverse("projects:list"))
    if not request.htmx:
        messages.success(request, note)
    return _members_response(request, access, member_note=note)


@project_view(Capability.DESIGN)
@require_POST
def variable_create(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    form = VariableForm(request.POST)
    if form.is_valid():
        try:
            services.variable_create(
                project=access.project,
                name=form.cleaned_data["name"],
                value=form.cleaned_data["value"],
                is_secret=form.cleaned_data["is_secret"],
                actor=request.user,
            )
        except ValidationError as error:
            _add_validation_errors(form, error)
        else:
            messages.success(request, f"Variable [{form.cleaned_data['name']}] added.")
            return redirect(_variables_url(access))
    return render(
        request,
        "projects/project_settings.html",
        _settings_context(request, access, variable_form=form),
        status=422,
    )


@project_view(Capability.DESIGN)
@require_POST
def variable_update(request: HttpRequest, access: ProjectAccess, variable_id: int) -> HttpResponse:
    variable = get_object_or_404(Variable, project=access.project, pk=variable_id)
    form = VariableForm(request.POST, variable=variable, prefix=f"v{variable.pk}")
    stale = None
    if form.is_valid():
        value = form.cleaned_data["value"]
        try:
            services.variable_update(
                project=access.project,
                variable_id=variable.pk,
                version=form.cleaned_data["version"] or 0,
                name=form.cleaned_data["name"],
                value=None if (variable.is_secret and not value) else value,
                is_secret=form.cleaned_data["is_secret"],
                actor=request.user,
            )
        except services.StaleVersion as error:
            stale = str(error)
        except ValidationError as error:
            _add_validation_errors(form, error)
        else:
            messages.success(request, f"Variable [{form.cleaned_data['name']}] saved.")
            return redirect(_variables_url(access))
    context = _settings_context(request, access, stale_error=stale, stale_variable_id=variable.pk)
    context["variables"] = [
        (v, form if v.pk == variable.pk else f) for v, f in context["variables"]
    ]
    return render(request, "projects/project_settings.html", context, status=409 if stale else 422)


@project_view(Capability.DESIGN)
@require_POST
def variable_delete(request: HttpRequest, access: ProjectAccess, variable_id: int) -> HttpResponse:
    variable = get_object_or_404(Variable, project=access.project, pk=variable_id)
    services.variable_delete(project=access.project, variable_id=variable.pk, actor=request.user)
    messages.success(
        request, f"Variable [{variable.name}] deleted; it can be restored from the history."
    )
    return redirect(_variables_url(access))


def _variables_url(access: ProjectAccess) -> str:
    return reverse("projects:settings", args=[access.project.pk]) + "#variables"


def _add_validation_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            field = field if field in form.fields else None
            if field is None and "name" in str(errors):
                field = "name"
            for message in errors:
                form.add_error(field, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


@project_view(Capability.MANAGE)
@require_POST
def project_rename(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    form = RenameProjectForm(request.POST, instance=access.project)
    if form.is_valid():
        services.project_rename(
            project=access.project, name=form.cleaned_data["name"], actor=request.user
        )
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
    services.project_delete(project=access.project, actor=request.user)
    messages.success(request, f"Project “{name}” deleted.")
    return redirect("projects:list")
