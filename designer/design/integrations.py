"""The one place that reaches into the apps beside this one: runs (Run button, last run,
schedules) and transformations (the mapping editor, Files connections' folders)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from designer.projects.models import Project


def last_runs(project: Project) -> dict[int, Any]:
    """Operation id -> its last OperationRun (one query)."""
    from designer.runs.selectors import last_runs_by_operation

    return last_runs_by_operation(project)


def connection_extras(connection: Any) -> dict[str, Any]:
    """App-provided facts a connector needs (the Files connector's folder), or {}."""
    if connection.connector_key != "files":
        return {}
    from designer.transformations.storage import connection_extras as files_extras

    return files_extras(connection)


def schedules(project: Project) -> list[Any]:
    """The project's schedules with their operation (one query)."""
    from designer.runs.models import Schedule

    return list(Schedule.objects.filter(project=project).select_related("operation").order_by("id"))


def operation_urls(project_id: int, operation_id: int) -> dict[str, str]:
    """Run, log and run settings (schedules) of an operation."""
    return {
        "run": reverse("runs:start", args=[project_id, operation_id]),
        "log": reverse("runs:log", args=[project_id, operation_id]),
        "settings": reverse("runs:settings", args=[project_id, operation_id]),
    }


def transformation_url(project_id: int, transformation_id: int) -> str:
    return reverse("transformations:edit", args=[project_id, transformation_id])
