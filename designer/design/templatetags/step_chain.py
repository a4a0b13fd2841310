"""``{% step_chain operation as chain %}``: an operation's steps as its card shows them.

Invoke steps name the operation they run: the names come from the page's operations
(``data.operations``) when it has them, so a board of any size costs no query per card."""

from __future__ import annotations

from typing import Any

from django import template

from designer.design.models import Operation
from designer.design.step_view import Chain, chain_of

register = template.Library()


@register.simple_tag(takes_context=True)
def step_chain(context: Any, operation: Operation) -> Chain:
    names = context.get("_step_operation_names")
    if names is None:
        data = context.get("data")
        names = {op.pk: op.name for op in getattr(data, "operations", None) or []}
        # Kept on the context's outermost layer: computed once per page, not per card.
        context.dicts[0]["_step_operation_names"] = names
    return chain_of(operation, names)
