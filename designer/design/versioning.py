"""Optimistic locking: a save names the version it was made from and is refused if stale.

The save is one conditional UPDATE (``WHERE version = expected``) that bumps the version, so
two people saving the same component at once can't both win silently.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Model
from django.utils import timezone

from designer.audit.models import AuditAction
from designer.audit.services import audit_record, audit_snapshot


class StaleVersion(Exception):
    """The component changed since the form was loaded."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def stale_message(model: type[Model], pk: int) -> str:
    row = model.objects.filter(pk=pk).select_related("updated_by").first()
    if row is None:
        return "It was deleted by someone else — reload the designer."
    who = row.updated_by.get_username() if row.updated_by else "someone"
    when = timezone.localtime(row.updated_at).strftime("%Y-%m-%d %H:%M:%S")
    return f"Changed by {who} at {when} — reload to see their version"


def versioned_update(
    model: type[Model],
    *,
    pk: int,
    expected_version: int | None,
    user: Any,
    audit_before: dict[str, Any] | None = None,
    **fields: Any,
) -> int:
    """Apply ``fields`` if the row is still at ``expected_version``; returns the new version.

    ``expected_version`` None skips the check (for changes that are not edits of a loaded
    copy, e.g. a canvas drop on a card the user did not edit). ``audit_before`` overrides
    parts of the history's "before" that changed before this update (an operation's steps).
    """
    before = model.objects.filter(pk=pk).select_related("project").first()
    query = model.objects.filter(pk=pk)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    updated = query.update(
        **fields,
        version=F("version") + 1,
        updated_by=user if getattr(user, "pk", None) else None,
        updated_at=timezone.now(),
    )
    if updated != 1:
        raise StaleVersion(stale_message(model, pk))
    after = model.objects.get(pk=pk)
    # A queryset update sends no signal, so the history is written here, for every kind.
    audit_record(
        project=before.project,
        actor=user,
        action=AuditAction.UPDATE,
        obj=after,
        before={**audit_snapshot(before), **(audit_before or {})},
        after=audit_snapshot(after),
    )
    return after.version
