"""``{{ operation|step_chain }}``: an operation's steps as its card shows them."""

from __future__ import annotations

from django import template

from designer.design.models import Operation
from designer.design.step_view import Chain, chain_of

register = template.Library()


@register.filter
def step_chain(operation: Operation) -> Chain:
    return chain_of(operation)
