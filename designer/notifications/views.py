from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from designer.design.models import Operation
from designer.notifications import services
from designer.notifications.forms import NotificationForm
from designer.notifications.models import NotificationRule
from designer.projects.access import Capability, ProjectAccess, project_view


def initial_for(operation: Operation) -> dict:
    rule = NotificationRule.objects.filter(operation=operation).first()
    if rule is None:
        return {}
    return {
        "on_error": rule.on_error,
        "on_warning": rule.on_warning,
        "members": list(rule.members.all()),
        "addresses": "\n".join(rule.addresses),
    }


@project_view(Capability.DESIGN)
def operation_notifications(
    request: HttpRequest, access: ProjectAccess, operation_id: int
) -> HttpResponse:
    """The form also shows on the operation's run settings page (beside On Success / On
    Fail); this page answers its POST, and shows it again with the errors when refused."""
    operation = get_object_or_404(Operation, project=access.project, pk=operation_id)
    if request.method == "POST":
        form = NotificationForm(request.POST, project=access.project)
        if form.is_valid():
            services.notification_rule_save(
                operation=operation,
                on_error=form.cleaned_data["on_error"],
                on_warning=form.cleaned_data["on_warning"],
                members=list(form.cleaned_data["members"]),
                addresses=form.cleaned_data["addresses"],
                actor=request.user,
            )
            messages.success(request, "Notifications saved.")
            return redirect("runs:settings", access.project.pk, operation.pk)
        status = 422
    else:
        form = NotificationForm(initial=initial_for(operation), project=access.project)
        status = 200
    return render(
        request,
        "notifications/edit.html",
        {"access": access, "project": access.project, "operation": operation, "form": form},
        status=status,
    )
