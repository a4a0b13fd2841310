from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from designer.design.board_cache import cards_html

register = template.Library()


@register.simple_tag(takes_context=True)
def board_cards(context: Any) -> SafeString:
    """The board's operation cards (each cached until what it shows changes)."""
    html = cards_html(context["data"], project=context["project"], access=context["access"])
    return mark_safe(html)


@register.simple_tag(takes_context=True)
def board_arrows(context: Any) -> SafeString:
    """The chain arrows' SVG groups (canvas.js draws their paths between the ports)."""
    return format_html_join(
        "\n",
        '<g class="chain chain-{}" data-from="{}" data-to="{}" data-kind="{}" data-version="{}">'
        '<title>{}</title><path class="chain-hit"></path>'
        '<path class="chain-line" marker-end="url(#head-{})"></path></g>',
        (
            (a.kind, a.source.pk, a.target.pk, a.kind, a.source.version, a.description, a.kind)
            for a in context["data"].arrows
        ),
    )
