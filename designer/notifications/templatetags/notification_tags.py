from __future__ import annotations

from django import template

from designer.notifications.forms import NotificationForm

register = template.Library()


@register.inclusion_tag("notifications/_form.html", takes_context=True)
def notification_form(context, operation) -> dict:
    """The notifications card, for the operation's run settings page."""
    from designer.notifications.views import initial_for

    project = operation.project
    return {
        "csrf_token": context.get("csrf_token"),
        "project": project,
        "operation": operation,
        "form": NotificationForm(initial=initial_for(operation), project=project),
    }
