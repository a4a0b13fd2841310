"""The board's cards, rendered once and kept in the cache until something they show changes.

A board of 200 operations is 200 cards of steps: rendering them all on each page load or edit
costs seconds, while an edit changes one or two of them. Each card's HTML is cached under a key
made of everything it shows: the operation's version and last save (its steps bump the
version), its last run, what the viewer may do, the names of the project's endpoints,
activities, transformations and operations (``DesignerData.design_stamp``: a step shows them),
and the templates' own text (a deploy with new templates doesn't serve old cards).
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from typing import Any

from django.core.cache import cache as django_cache
from django.template.loader import get_template, render_to_string

from designer.design.selectors import prefetch_steps

logger = logging.getLogger(__name__)

CARD_TEMPLATE = "design/_operation_card.html"
# Everything the card includes: a change to any of them changes every key.
TEMPLATES = (
    CARD_TEMPLATE,
    "design/_steps.html",
    "design/_step.html",
    "design/_step_gap.html",
    "runs/_status.html",
)
TIMEOUT = 24 * 60 * 60


@cache
def _templates_hash() -> str:
    sources = "".join(get_template(name).template.source for name in TEMPLATES)
    return hashlib.blake2s(sources.encode(), digest_size=6).hexdigest()


def card_key(card: Any, *, project_id: int, access: Any, stamp: str) -> str:
    op = card.operation
    run = card.last_run
    parts = [
        _templates_hash(),
        project_id,
        op.pk,
        op.version,
        op.updated_at.timestamp() if op.updated_at else 0,
        f"{run.pk}:{run.status}" if run is not None else "-",
        int(bool(access.can_design)),
        int(bool(access.can_run)),
        stamp,
    ]
    return "board-card:" + ":".join(str(p) for p in parts)


def cards_html(data: Any, *, project: Any, access: Any) -> str:
    """The cards' HTML, from the cache where it is current (one round trip), rendered else.

    ``data`` is the page's DesignerData: its cards, its stamp, and the operations' names that
    an invoke step shows."""
    cards, stamp = data.cards, data.design_stamp
    keys = [card_key(c, project_id=project.pk, access=access, stamp=stamp) for c in cards]
    try:
        found = django_cache.get_many(keys)
    except Exception:  # the cache is down: the page still renders, only slower
        logger.warning("Board cards: the cache could not be read", exc_info=True)
        found = {}
    missing = {}
    html = []
    # Only the cards to render read their steps (one query for all of them).
    prefetch_steps([c.operation for k, c in zip(keys, cards, strict=True) if k not in found])
    for key, card in zip(keys, cards, strict=True):
        text = found.get(key)
        if text is None:
            text = render_to_string(
                CARD_TEMPLATE, {"card": card, "project": project, "access": access, "data": data}
            )
            missing[key] = text
        html.append(text)
    if missing:
        try:
            django_cache.set_many(missing, TIMEOUT)
        except Exception:
            logger.warning("Board cards: the cache could not be written", exc_info=True)
    return "".join(html)
