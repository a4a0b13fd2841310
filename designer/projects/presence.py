"""Who else has a project's designer open: each open page polls every 15 s (htmx).

Cache-backed (settings CACHES default, Redis in production so all web nodes agree): one key
per viewer that expires when the polls stop, plus an index of who has been seen.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from designer.projects.access import Capability, ProjectAccess, project_view

POLL_SECONDS = 15
# A viewer counts as present for a little over two missed polls.
STALE_SECONDS = POLL_SECONDS * 2 + 5


def _index_key(project_id: int) -> str:
    return f"presence:{project_id}"


def _viewer_key(project_id: int, user_id: int) -> str:
    return f"presence:{project_id}:{user_id}"


def presence_touch(*, project_id: int, user_id: int, username: str) -> None:
    cache.set(_viewer_key(project_id, user_id), (username, time.time()), STALE_SECONDS)
    index = set(cache.get(_index_key(project_id)) or ())
    if user_id not in index:
        index.add(user_id)
        cache.set(_index_key(project_id), index, 24 * 3600)


def present_users(*, project_id: int, exclude_user_id: int | None = None) -> list[str]:
    index = cache.get(_index_key(project_id)) or set()
    keys = {_viewer_key(project_id, uid): uid for uid in index if uid != exclude_user_id}
    found = cache.get_many(list(keys))
    now = time.time()
    return sorted(name for name, seen in found.values() if now - seen < STALE_SECONDS)


@project_view(Capability.VIEW)
def presence(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    user = request.user
    presence_touch(project_id=access.project.pk, user_id=user.pk, username=user.get_username())
    others = present_users(project_id=access.project.pk, exclude_user_id=user.pk)
    return render(
        request,
        "projects/_presence.html",
        {"project": access.project, "others": others, "poll_seconds": POLL_SECONDS},
    )
