"""The one place that reaches into apps built alongside this one (runs, transformations).

Until those apps provide their URLs and selectors the designer still works: the Run button and
the mapping-editor link are simply not shown.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse

from designer.projects.models import Project


def last_runs(project: Project) -> dict[int, Any]:
    """Operation id -> its last OperationRun (one query), or {} before runs exist."""
    try:
        from designer.runs.selectors import last_runs_by_operation
    except ImportError:
        return {}
    return last_runs_by_operation(project)


def connection_extras(connection: Any) -> dict[str, Any]:
    """App-provided facts a connector needs (the Files connector's folder), or {}."""
    if connection.connector_key != "files":
        return {}
    try:
        from designer.transformations.storage import connection_extras as files_extras
    except ImportError:
        return {}
    return files_extras(connection)


def schedules(project: Project) -> list[Any]:
    """The project's schedules with their operation (one query), or [] before they exist."""
    try:
        from designer.runs.models import Schedule
    except ImportError:
        return []
    return list(Schedule.objects.filter(project=project).select_related("operation").order_by("id"))


def operation_urls(project_id: int, operation_id: int) -> dict[str, str]:
    """Run, log and run settings (schedules) of an operation; "" where not available."""
    return {
        "run": _reverse("runs:start", project_id, operation_id),
        "log": _reverse("runs:log", project_id, operation_id),
        "settings": _reverse("runs:settings", project_id, operation_id),
    }


def transformation_url(project_id: int, transformation_id: int) -> str:
    return _reverse("transformations:edit", project_id, transformation_id)


def _reverse(name: str, *args: int) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
