"""Schedules: our Schedule rows, mirrored into django-celery-beat's PeriodicTask table, which
the beat process (DatabaseScheduler) reads. Firing a schedule just starts a run."""

from __future__ import annotations

import json
import logging
import zoneinfo
from datetime import datetime
from typing import Any

from celery.schedules import crontab
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from designer.design.models import Operation
from designer.runs.models import LogLevel, RunTrigger, Schedule
from designer.runs.services import RunRefused, RunsWaiting, run_log, run_start

logger = logging.getLogger(__name__)

CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def parse_cron(text: str) -> dict[str, str]:
    """ "m h dom mon dow" -> the five fields; raises RunRefused with a readable reason."""
    parts = text.split()
    if len(parts) != 5:
        raise RunRefused(
            "A schedule has five fields: minute hour day-of-month month day-of-week "
            "(e.g. “0 6 * * 1-5”)."
        )
    fields = dict(zip(CRON_FIELDS, parts, strict=True))
    try:
        crontab(**fields)
    except (ValueError, TypeError) as exc:
        raise RunRefused(f"Not a valid schedule: {exc}") from None
    return fields


def next_run_at(schedule: Schedule, now: datetime | None = None) -> datetime | None:
    if not schedule.enabled:
        return None
    tz = zoneinfo.ZoneInfo(schedule.timezone)
    now = (now or timezone.now()).astimezone(tz)
    fields = {name: getattr(schedule, name) for name in CRON_FIELDS}
    cron = crontab(**fields, nowfun=lambda: now)
    return now + cron.remaining_estimate(now)


def _sync(schedule: Schedule) -> None:
    crontab_row, _ = CrontabSchedule.objects.get_or_create(
        timezone=schedule.timezone, **{name: getattr(schedule, name) for name in CRON_FIELDS}
    )
    values: dict[str, Any] = {
        "name": f"runs.schedule.{schedule.pk}",
        "task": "runs.scheduled",
        "crontab": crontab_row,
        "args": json.dumps([schedule.pk]),
        "enabled": schedule.enabled,
        "queue": schedule.project.agent_group,
        "description": f"{schedule.project} / {schedule.operation}",
    }
    if schedule.periodic_task_id:
        PeriodicTask.objects.filter(pk=schedule.periodic_task_id).update(**values)
        PeriodicTask.objects.get(pk=schedule.periodic_task_id).save()  # bumps beat's change flag
    else:
        task = PeriodicTask.objects.create(**values)
        Schedule.objects.filter(pk=schedule.pk).update(periodic_task=task)
        schedule.periodic_task = task


def schedule_save(
    *,
    operation: Operation,
    cron: str,
    tz: str = "UTC",
    enabled: bool = True,
    schedule: Schedule | None = None,
    user: Any = None,
) -> Schedule:
    fields = parse_cron(cron)
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RunRefused(f"Unknown time zone {tz!r}.") from None
    with transaction.atomic():
        if schedule is None:
            schedule = Schedule(
                project=operation.project,
                operation=operation,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
        for name, value in fields.items():
            setattr(schedule, name, value)
        schedule.timezone = tz
        schedule.enabled = enabled
        schedule.save()
        _sync(schedule)
    return schedule


def schedule_set_enabled(*, schedule: Schedule, enabled: bool) -> Schedule:
    with transaction.atomic():
        schedule.enabled = enabled
        schedule.save(update_fields=["enabled", "updated_at"])
        _sync(schedule)
    return schedule


def schedule_delete(*, schedule: Schedule) -> None:
    with transaction.atomic():
        if schedule.periodic_task_id:
            PeriodicTask.objects.filter(pk=schedule.periodic_task_id).delete()
        schedule.delete()


def schedule_fire(*, schedule_id: int) -> None:
    schedule = Schedule.objects.select_related("operation__project").filter(pk=schedule_id).first()
    if schedule is None or not schedule.enabled:
        return
    try:
        with transaction.atomic():
            run_start(operation=schedule.operation, trigger=RunTrigger.SCHEDULE)
    except RunsWaiting as exc:
        if exc.waiting_run_id is not None:
            run_log(
                run_id=exc.waiting_run_id,
                level=LogLevel.WARNING,
                message="The schedule fired again while this run was still waiting; "
                "not queued twice.",
            )
        logger.warning("Schedule %s: %s", schedule_id, exc)
    except RunRefused as exc:
        logger.warning("Schedule %s could not start a run: %s", schedule_id, exc)
