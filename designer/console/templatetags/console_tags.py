from django import template

from designer.console.access import can_use_console as _can_use_console

register = template.Library()


@register.filter
def can_use_console(user) -> bool:
    return _can_use_console(user)


@register.filter
def duration(value) -> str:
    """A timedelta as "2 h 05 min", "3 min 07 s" or "12.4 s"; "\u2013" (en dash) for none."""
    if value is None:
        return "\u2013"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.simple_tag
def agent_group_names() -> list[str]:
    """The groups a project may run on: the default one and those staff defined."""
    from django.conf import settings

    from designer.console.models import AgentGroup

    names = set(AgentGroup.objects.values_list("name", flat=True))
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    return [default, *sorted(names - {default})]
