"""Writes of the console: agent groups and which group a project runs on. Audited as
installation-wide entries (and in the project's history for a project's group)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from designer.audit.models import AuditAction
from designer.audit.services import audit_record
from designer.console.models import AgentGroup, queue_name
from designer.projects.models import Project
from designer.runs.models import ACTIVE_STATUSES, OperationRun, Schedule

KIND = "agent group"


class AgentGroupError(ValueError):
    """A group change that is refused; the message says why."""


def default_group() -> str:
    return settings.CELERY_TASK_DEFAULT_QUEUE


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    try:
        queue_name(name)
    except ValidationError as error:
        raise AgentGroupError(" ".join(error.messages)) from None
    return name


def _names_of(projects) -> str:
    names = sorted(p.name for p in projects)
    shown = ", ".join(f"“{n}”" for n in names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


@transaction.atomic
def agent_group_create(*, name: str, description: str = "", actor: Any) -> AgentGroup:
    name = _clean_name(name)
    if AgentGroup.objects.filter(name__iexact=name).exists():
        raise AgentGroupError(f"An agent group “{name}” already exists.")
    try:
        with transaction.atomic():  # a savepoint: the unique index has the last word
            group = AgentGroup.objects.create(
                name=name,
                description=description.strip()[:200],
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        raise AgentGroupError(f"An agent group “{name}” already exists.") from None
    audit_record(project=None, actor=actor, action=AuditAction.CREATE, kind=KIND, name=name)
    return group


def _locked_group(group_id: int) -> AgentGroup:
    group = AgentGroup.objects.select_for_update().filter(pk=group_id).first()
    if group is None:
        raise AgentGroupError("No such agent group.")
    return group


@transaction.atomic
def agent_group_rename(*, group_id: int, name: str, actor: Any) -> AgentGroup:
    """Rename a group and move its projects (and their schedules) to the new queue name.

    Refused for the default group (new projects use it) and while runs are queued or running
    on it: their messages sit in the old queue. Agents must be restarted with the new
    ``-Q`` (the Agents page shows the command)."""
    group = _locked_group(group_id)
    name = _clean_name(name)
    if name == group.name:
        return group
    if group.name == default_group():
        raise AgentGroupError(f"“{group.name}” is the default group of new projects: keep it.")
    if AgentGroup.objects.filter(name__iexact=name).exclude(pk=group.pk).exists():
        raise AgentGroupError(f"An agent group “{name}” already exists.")
    active = OperationRun.objects.filter(queue=group.name, status__in=ACTIVE_STATUSES).count()
    if active:
        raise AgentGroupError(
            f"{active} run{'s are' if active > 1 else ' is'} pending or running in “{group.name}”:"
            " rename it once they have ended."
        )
    before = group.name
    group.name = name
    group.save(update_fields=["name"])
    for project in Project.objects.select_for_update().filter(agent_group=before):
        _move(project, name)
    audit_record(
        project=None,
        actor=actor,
        action=AuditAction.UPDATE,
        kind=KIND,
        name=name,
        before={"name": before},
        after={"name": name},
    )
    return group


@transaction.atomic
def agent_group_delete(*, group_id: int, actor: Any) -> None:
    group = _locked_group(group_id)
    if group.name == default_group():
        raise AgentGroupError(f"“{group.name}” is the default group of new projects: keep it.")
    users = list(Project.objects.filter(agent_group=group.name).order_by("name"))
    if users:
        raise AgentGroupError(
            f"“{group.name}” can't be deleted: {len(users)} project"
            f"{'s use' if len(users) > 1 else ' uses'} it ({_names_of(users)}). "
            "Move them to another group first."
        )
    audit_record(project=None, actor=actor, action=AuditAction.DELETE, kind=KIND, name=group.name)
    group.delete()


def _move(project: Project, name: str) -> None:
    """Point the project, and the beat entries of its schedules, at queue ``name``."""
    project.agent_group = name
    project.save(update_fields=["agent_group", "updated_at"])
    task_ids = Schedule.objects.filter(project=project, periodic_task__isnull=False).values(
        "periodic_task_id"
    )
    if PeriodicTask.objects.filter(pk__in=task_ids).update(queue=name):
        PeriodicTasks.update_changed()  # beat reloads its schedule


@transaction.atomic
def project_set_agent_group(*, project: Project, name: str, actor: Any) -> Project:
    """Run ``project``'s operations on group ``name`` (one staff defined, or the default)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    name = (name or "").strip()
    if name != default_group() and not AgentGroup.objects.filter(name=name).exists():
        raise AgentGroupError(f"No agent group “{name}”: staff define groups in the console.")
    before = project.agent_group
    if before == name:
        return project
    _move(project, name)
    audit_record(
        project=project,
        actor=actor,
        action=AuditAction.UPDATE,
        kind="project",
        name=project.name,
        before={"agent_group": before},
        after={"agent_group": name},
    )
    return project
