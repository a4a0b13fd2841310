"""Reads of the audit log, for the project history page and the console."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from designer.audit.models import AuditEntry


def audit_entries(
    *,
    project_ids: list[int] | None = None,
    project_id: int | None = None,
    action: str = "",
    kind: str = "",
    component_id: int | None = None,
    actor: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Entries newest first; ``project_ids`` limits to those projects (None: all)."""
    entries = AuditEntry.objects.select_related("actor")
    if project_ids is not None:
        entries = entries.filter(project_id__in=project_ids)
    if project_id is not None:
        entries = entries.filter(project_id=project_id)
    if action:
        entries = entries.filter(action=action)
    if kind:
        entries = entries.filter(component_kind=kind)
    if component_id is not None:
        entries = entries.filter(component_id=component_id)
    if actor:
        entries = entries.filter(actor_name__iexact=actor)
    if since:
        entries = entries.filter(at__gte=since)
    if until:
        entries = entries.filter(at__lt=until)
    return entries.order_by("-at", "-id")


def audit_kinds() -> list[str]:
    return [
        "connection",
        "activity",
        "transformation",
        "operation",
        "schedule",
        "variable",
        "member",
        "project",
        "run",
    ]
