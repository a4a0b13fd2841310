"""``{% palette_tools as tools %}``: the palette's Tools tab entries (``step_view.TOOLS``)."""

from __future__ import annotations

from django import template

from designer.design.step_view import TOOL_NAMES, TOOLS

register = template.Library()


@register.simple_tag
def palette_tools() -> list[tuple[str, str, str]]:
    """(key, name, what it does) of each tool, in palette order."""
    return [(str(kind), TOOL_NAMES[kind], hint) for kind, hint in TOOLS.items()]
