"""``{% palette_tools as tools %}``: the palette's Tools tab entries."""

from __future__ import annotations

from django import template

register = template.Library()

TOOLS = (
    ("transformation", "Transformation", "Maps each record's fields to the next step's."),
    ("script", "Script", "Filters records, changes fields, sets project variables."),
    ("condition", "Condition", "Routes each record to a True or a False branch, or filters."),
    ("invoke", "Invoke operation", "Runs another operation of the project, waiting or not."),
)


@register.simple_tag
def palette_tools() -> tuple[tuple[str, str, str], ...]:
    return TOOLS
