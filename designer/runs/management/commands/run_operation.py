"""python manage.py run_operation <project> <operation> [--wait]

Project and operation by id or by name. Exit code 0 only when the run ends as Success
(with --wait); without --wait, 0 once it is queued.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from designer.design.models import Operation
from designer.projects.models import Project
from designer.runs.models import FINAL_STATUSES, OperationRun, RunStatus, RunTrigger
from designer.runs.selectors import queue_has_online_agent
from designer.runs.services import RunRefused, run_start


def _by_id_or_name(queryset, value: str, what: str):
    found = queryset.filter(pk=int(value)) if value.isdigit() else queryset.none()
    found = found or queryset.filter(name=value)
    if len(found) != 1:
        raise CommandError(f"No single {what} matches {value!r}.")
    return found[0]


class Command(BaseCommand):
    help = "Run an operation on its project's agent group; --wait prints the outcome."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project", help="project id or name")
        parser.add_argument("operation", help="operation id or name")
        parser.add_argument("--wait", action="store_true", help="wait for the final status")
        parser.add_argument(
            "--timeout", type=float, default=None, help="seconds to wait (default: no limit)"
        )

    def handle(self, *args, **options) -> None:
        project = _by_id_or_name(Project.objects.all(), options["project"], "project")
        operation = _by_id_or_name(
            Operation.objects.filter(project=project).select_related("project"),
            options["operation"],
            "operation",
        )
        try:
            with transaction.atomic():
                run = run_start(operation=operation, trigger=RunTrigger.COMMAND)
        except RunRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Run {run.pk} queued on agent group “{run.queue}”.")
        if not queue_has_online_agent(run.queue):
            self.stderr.write(
                f"No agent is online in agent group “{run.queue}”; the run waits until one is."
            )
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"] if options["timeout"] else None
        while True:
            run = OperationRun.objects.get(pk=run.pk)
            if run.status in FINAL_STATUSES:
                break
            if deadline and time.monotonic() > deadline:
                raise CommandError(f"Run {run.pk} is still {run.get_status_display()}.")
            time.sleep(0.2)
        self.stdout.write(
            f"Run {run.pk}: {run.get_status_display()}. Source records: {run.source_records}, "
            f"target records: {run.target_records}, failed records: {run.failed_records}."
        )
        if run.message:
            self.stdout.write(run.message)
        if run.status != RunStatus.SUCCESS:
            raise SystemExit(1)
