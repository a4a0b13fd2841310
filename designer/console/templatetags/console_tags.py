from django import template

from designer.console.access import can_use_console as _can_use_console

register = template.Library()


@register.filter
def can_use_console(user) -> bool:
    return _can_use_console(user)
