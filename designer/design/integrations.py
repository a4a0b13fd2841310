"""Where the apps above design plug into it: design never imports them (the import-linter layers).

The designer page shows each operation's last run and the project's schedules (the runs app),
and a connection may need facts that only the app keeping them knows (a Files connection's
folder, kept by the Files app). Those apps register a provider here from their
``AppConfig.ready()``; until one does, the designer page shows no runs and a connection gets no
extras. URLs of the other apps are reversed by name, which needs no import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from designer.projects.models import Project

LastRuns = Callable[[Project], dict[int, Any]]
Schedules = Callable[[Project], list[Any]]
ExtrasBuilder = Callable[[Any], dict[str, Any]]
PageLink = Callable[[Any], tuple[str, str]]  # connection -> (label, url)
FileLink = Callable[[Any, str], str]  # (connection, file name) -> url

_runs: dict[str, Callable[[Project], Any]] = {}
_extras: dict[str, ExtrasBuilder] = {}
_pages: dict[str, PageLink] = {}
_files: dict[str, FileLink] = {}
# A step's Test/Preview runs the step's own code (mappings, scripts, conditions, the engine's
# read-only source calls), which lives in apps above design: they register it here.
StepPreview = Callable[..., Any]  # (step, *, user) -> an object with records_in/out, note, error
_previews: dict[str, StepPreview] = {}
StepCheck = Callable[[str, dict[str, Any]], str]  # (kind, config) -> problem or ""
_checks: dict[str, StepCheck] = {}


def register_runs(*, last_runs: LastRuns, schedules: Schedules) -> None:
    """The runs app: an operation's last run (id -> OperationRun) and the project's schedules."""
    _runs.update(last_runs=last_runs, schedules=schedules)


def register_connection_extras(connector_key: str, builder: ExtrasBuilder) -> None:
    """The app that keeps a connector's facts (e.g. a Files connection's folder) builds them."""
    _extras[connector_key] = builder


def register_connection_page(connector_key: str, link: PageLink) -> None:
    """A connector's own page for a connection (e.g. a Files connection's files), by the app
    that serves it; pages that show a connection link to it without naming the connector."""
    _pages[connector_key] = link


def connection_page(connection: Any) -> tuple[str, str] | None:
    """(label, url) of the connection's own page, or None."""
    link = _pages.get(connection.connector_key) if connection is not None else None
    return link(connection) if link else None


def register_connection_file(connector_key: str, link: FileLink) -> None:
    """Where a file a connection wrote can be fetched (e.g. a Files target's output), by the
    app that serves it; a run's page links to the file its target wrote."""
    _files[connector_key] = link


def register_step_check(check: StepCheck) -> None:
    """The app that compiles scripts and conditions checks a step's configuration."""
    _checks["step"] = check


def step_config_problem(kind: str, config: dict[str, Any]) -> str:
    """Why this step configuration can't run (a script's bad line), or "" (also when no app
    checks: the run then says so)."""
    check = _checks.get("step")
    return check(kind, config) if check else ""


def register_step_preview(preview: StepPreview) -> None:
    """The app that runs steps previews one: ``preview(step, *, user)``."""
    _previews["step"] = preview


def step_preview(step: Any, *, user: Any) -> Any:
    """A step's preview (see ``register_step_preview``), or None when no app provides one."""
    preview = _previews.get("step")
    return preview(step, user=user) if preview else None


def connection_file_url(connection: Any, name: str) -> str | None:
    link = _files.get(connection.connector_key) if connection is not None and name else None
    return link(connection, name) if link else None


def last_runs(project: Project) -> dict[int, Any]:
    """Operation id -> its last OperationRun (one query)."""
    provider = _runs.get("last_runs")
    return provider(project) if provider else {}


def schedules(project: Project) -> list[Any]:
    """The project's schedules with their operation (one query)."""
    provider = _runs.get("schedules")
    return provider(project) if provider else []


def needs_project(connector_key: str) -> bool:
    """Whether a connection of this connector needs project facts (extras such as a Files
    folder): such a connector can't back a global endpoint, which has no project."""
    return connector_key in _extras


def connection_extras(connection: Any) -> dict[str, Any]:
    """App-provided facts the connection's connector needs, or {}."""
    builder = _extras.get(connection.connector_key)
    return builder(connection) if builder else {}


def operation_urls(project_id: int, operation_id: int) -> dict[str, str]:
    """Run, log and run settings (schedules) of an operation."""
    return {
        "run": reverse("runs:start", args=[project_id, operation_id]),
        "log": reverse("runs:log", args=[project_id, operation_id]),
        "settings": reverse("runs:settings", args=[project_id, operation_id]),
    }


def transformation_url(project_id: int, transformation_id: int) -> str:
    return reverse("transformations:edit", args=[project_id, transformation_id])
