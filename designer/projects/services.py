"""Writes to projects and memberships. Views stay thin over these."""

from __future__ import annotations

from django.db import transaction

from designer.projects.models import Membership, Project, Role


@transaction.atomic
def project_create(*, name: str, created_by, description: str = "") -> Project:
    project = Project.objects.create(name=name, description=description, created_by=created_by)
    Membership.objects.create(project=project, user=created_by, role=Role.ADMIN)
    return project


def project_rename(*, project: Project, name: str) -> Project:
    project.name = name
    project.save(update_fields=["name", "updated_at"])
    return project


def project_delete(*, project: Project) -> None:
    project.delete()


def membership_set(*, project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership
