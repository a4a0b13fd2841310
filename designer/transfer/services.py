"""Export a project as one JSON document and import it into another installation.

The format is documented in docs/EXPORT_FORMAT.md; bump FORMAT_VERSION on any change that an
older importer would misread. Components refer to each other by name (unique in a project;
activities unique in their connection), never by database id. No secrets are exported:
connections come back with empty credentials and the status "Needs reconnect", secret
variables with no value.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from connectors.redaction import drop_secrets
from designer.audit.context import quiet_signals
from designer.audit.models import AuditAction
from designer.audit.services import audit_record
from designer.design.models import (
    Activity,
    AgentLostPolicy,
    Connection,
    ConnectionStatus,
    Operation,
    Transformation,
)
from designer.projects.models import Membership, Project, Role, Variable
from designer.transfer.validation import ProjectImportError, validate_document

FORMAT = "integration-designer/project"
FORMAT_VERSION = 1
NEEDS_CREDENTIALS = "Imported: enter the credentials again, then Test."


def _connector_secrets(connector_key: str) -> frozenset[str]:
    try:
        from connectors.registry import get_connector

        return get_connector(connector_key).secret_field_names
    except Exception:
        return frozenset()


def _activity_types(connector_key: str) -> frozenset[str] | None:
    """The connector's activity type keys; None if the connector can't be loaded to check."""
    try:
        from connectors.registry import get_connector

        return frozenset(get_connector(connector_key).activity_types)
    except Exception:
        return None


def project_export(*, project: Project, actor: Any = None) -> dict[str, Any]:
    connections = list(
        Connection.objects.filter(project=project).prefetch_related("activities").order_by("name")
    )
    operations = list(
        Operation.objects.filter(project=project)
        .select_related(
            "source__connection", "target__connection", "transformation", "on_success", "on_fail"
        )
        .order_by("name")
    )

    def activity_ref(activity: Activity | None) -> dict[str, str] | None:
        if activity is None:
            return None
        return {"connection": activity.connection.name, "activity": activity.name}

    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "project": {
            "name": project.name,
            "description": project.description,
            "agent_group": project.agent_group,
        },
        "variables": [
            {"name": v.name, "is_secret": True}
            if v.is_secret
            else {"name": v.name, "is_secret": False, "value": v.value}
            for v in Variable.objects.filter(project=project).order_by("name")
        ],
        "connections": [
            {
                "name": c.name,
                "connector_key": c.connector_key,
                "config": drop_secrets(c.config, extra_keys=_connector_secrets(c.connector_key)),
                "activities": [
                    {
                        "name": a.name,
                        "activity_type": a.activity_type,
                        "config": drop_secrets(a.config),
                    }
                    for a in sorted(c.activities.all(), key=lambda a: a.name)
                ],
            }
            for c in connections
        ],
        "transformations": [
            {"name": t.name, "mapping": t.mapping}
            for t in Transformation.objects.filter(project=project).order_by("name")
        ],
        "operations": [
            {
                "name": o.name,
                "source": activity_ref(o.source),
                "transformation": o.transformation.name if o.transformation else None,
                "target": activity_ref(o.target),
                "position": {"x": o.position_x, "y": o.position_y},
                "timeout_seconds": o.timeout_seconds,
                "on_success": o.on_success.name if o.on_success else None,
                "on_fail": o.on_fail.name if o.on_fail else None,
                "on_agent_lost": o.on_agent_lost,
            }
            for o in operations
        ],
        "schedules": _export_schedules(project),
    }
    audit_record(
        project=project, actor=actor, action=AuditAction.EXPORT, kind="project", name=project.name
    )
    return document


def _export_schedules(project: Project) -> list[dict[str, Any]]:
    from designer.runs.models import Schedule

    return [
        {
            "operation": s.operation.name,
            "cron": s.cron,
            "timezone": s.timezone,
            "enabled": s.enabled,
        }
        for s in Schedule.objects.filter(project=project).select_related("operation")
    ]


# --- Import ---------------------------------------------------------------------------------


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ProjectImportError(f"{where}: {message}")


def _items(document: dict, key: str) -> list[dict]:
    """A list of named components, its shape already checked by the schema."""
    items = document.get(key) or []
    for i, item in enumerate(items):
        _require(bool(item["name"].strip()), f"{key}[{i}]", "needs a name")
    names = [item["name"] for item in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    _require(not duplicates, key, f"duplicate names {duplicates}")
    return items


def _check_header(document: Any) -> None:
    _require(isinstance(document, dict), "file", "is not a JSON object")
    _require(
        document.get("format") == FORMAT,
        "file",
        f"is not a project export (format should be “{FORMAT}”)",
    )
    version = document.get("format_version")
    _require(isinstance(version, int), "format_version", "missing")
    _require(
        version <= FORMAT_VERSION,
        "format_version",
        f"{version} is newer than this installation reads ({FORMAT_VERSION}); upgrade first",
    )


def _save(obj, where: str) -> None:
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
        raise ProjectImportError(f"{where}: {details}") from None
    obj.save()


@transaction.atomic
def project_import(*, document: Any, actor: Any, name: str = "") -> Project:
    """Create a new project from an export; all or nothing."""
    _check_header(document)
    validate_document(document)
    # One "Imported" entry for the whole project, not one "Created" per component.
    with quiet_signals():
        project = _import_project(document, actor, name)
        _import_variables(project, _items(document, "variables"), actor)
        activities = _import_connections(project, _items(document, "connections"), actor)
        transformations = _import_transformations(
            project, _items(document, "transformations"), actor
        )
        op_items = _items(document, "operations")
        operations = _import_operations(project, op_items, activities, transformations, actor)
        _import_actions(op_items, operations)
        schedules = _import_schedules(document.get("schedules") or [], operations, actor)
        audit_record(
            project=project,
            actor=actor,
            action=AuditAction.IMPORT,
            kind="project",
            name=project.name,
            after={
                "exported_at": document.get("exported_at"),
                "format_version": document["format_version"],
                "connections": len(document.get("connections", [])),
                "operations": len(operations),
                "schedules": schedules,
            },
        )
    return project


def _import_project(document: dict, actor: Any, name: str) -> Project:
    meta = document.get("project") or {}
    project_name = (name or meta.get("name") or "").strip()
    _require(bool(project_name), "project.name", "missing")
    project = Project(
        name=project_name[:100],
        description=str(meta.get("description") or ""),
        agent_group=str(meta.get("agent_group") or "default"),
        created_by=actor,
    )
    _save(project, "project")
    Membership.objects.create(project=project, user=actor, role=Role.ADMIN)
    return project


def _import_variables(project: Project, items: list[dict], actor: Any) -> None:
    for i, item in enumerate(items):
        secret = bool(item.get("is_secret"))
        variable = Variable(
            project=project,
            name=item["name"],
            is_secret=secret,
            value="" if secret else str(item.get("value", "")),
            updated_by=actor,
        )
        _save(variable, f"variables[{i}] “{item['name']}”")


ActivityKey = tuple[str, str]  # (connection name, activity name)


def _import_connections(
    project: Project, items: list[dict], actor: Any
) -> dict[ActivityKey, Activity]:
    from connectors.registry import CONNECTORS

    activities: dict[ActivityKey, Activity] = {}
    for i, item in enumerate(items):
        where = f"connections[{i}] “{item['name']}”"
        key = item.get("connector_key")
        _require(key in CONNECTORS, where, f"connector “{key}” is not installed here")
        connection = Connection(
            project=project,
            connector_key=key,
            name=item["name"],
            config=item.get("config") or {},
            secrets_encrypted="",
            status=ConnectionStatus.NEEDS_RECONNECT,
            status_message=NEEDS_CREDENTIALS,
            updated_by=actor,
        )
        _save(connection, where)
        for activity in _import_activities(connection, item, where, actor):
            activities[(connection.name, activity.name)] = activity
    return activities


def _import_activities(
    connection: Connection, item: dict, where: str, actor: Any
) -> list[Activity]:
    known_types = _activity_types(connection.connector_key)
    created = []
    for j, sub in enumerate(_items(item, "activities")):
        sub_where = f"{where} activities[{j}] “{sub['name']}”"
        _require(
            known_types is None or sub["activity_type"] in known_types,
            sub_where,
            f"the connector has no activity type “{sub['activity_type']}”",
        )
        activity = Activity(
            project=connection.project,
            connection=connection,
            activity_type=sub["activity_type"],
            name=sub["name"],
            config=sub.get("config") or {},
            updated_by=actor,
        )
        _save(activity, sub_where)
        created.append(activity)
    return created


def _import_transformations(
    project: Project, items: list[dict], actor: Any
) -> dict[str, Transformation]:
    transformations: dict[str, Transformation] = {}
    for i, item in enumerate(items):
        transformation = Transformation(
            project=project, name=item["name"], mapping=item.get("mapping") or [], updated_by=actor
        )
        _save(transformation, f"transformations[{i}] “{item['name']}”")
        transformations[transformation.name] = transformation
    return transformations


def _find_activity(
    activities: dict[ActivityKey, Activity], ref: dict | None, where: str
) -> Activity | None:
    if ref is None:
        return None
    found = activities.get((ref["connection"], ref["activity"]))
    _require(
        found is not None,
        where,
        f"no activity “{ref['activity']}” in connection “{ref['connection']}”",
    )
    return found


def _import_operations(
    project: Project,
    items: list[dict],
    activities: dict[ActivityKey, Activity],
    transformations: dict[str, Transformation],
    actor: Any,
) -> dict[str, Operation]:
    operations: dict[str, Operation] = {}
    for i, item in enumerate(items):
        where = f"operations[{i}] “{item['name']}”"
        transformation = None
        if item.get("transformation") is not None:
            transformation = transformations.get(item["transformation"])
            _require(
                transformation is not None, where, f"no transformation “{item['transformation']}”"
            )
        position = item.get("position") or {}
        operation = Operation(
            project=project,
            name=item["name"],
            source=_find_activity(activities, item.get("source"), f"{where} source"),
            transformation=transformation,
            target=_find_activity(activities, item.get("target"), f"{where} target"),
            position_x=int(position.get("x", 0)),
            position_y=int(position.get("y", 0)),
            timeout_seconds=int(item.get("timeout_seconds") or 2 * 60 * 60),
            on_agent_lost=item.get("on_agent_lost") or AgentLostPolicy.ERROR,
            updated_by=actor,
        )
        _save(operation, where)
        operations[operation.name] = operation
    return operations


def _import_actions(items: list[dict], operations: dict[str, Operation]) -> None:
    """Actions second: an operation may chain to one defined after it."""
    for i, item in enumerate(items):
        operation = operations[item["name"]]
        for action in ("on_success", "on_fail"):
            ref = item.get(action)
            if ref is None:
                continue
            _require(ref in operations, f"operations[{i}] {action}", f"no operation “{ref}” to run")
            setattr(operation, action, operations[ref])
        operation.save(update_fields=["on_success", "on_fail"])


def _import_schedules(items: list[dict], operations: dict[str, Operation], actor: Any) -> int:
    """Schedules come back disabled: their endpoints need credentials before anything runs."""
    if not items:
        return 0
    from designer.runs.schedules import schedule_save
    from designer.runs.services import RunRefused

    for i, item in enumerate(items):
        where = f"schedules[{i}]"
        operation = operations.get(item.get("operation"))
        _require(operation is not None, where, f"no operation “{item.get('operation')}”")
        try:
            schedule_save(
                operation=operation,
                cron=str(item.get("cron", "")),
                tz=str(item.get("timezone") or "UTC"),
                enabled=False,
                user=actor,
            )
        except RunRefused as error:
            raise ProjectImportError(f"{where}: {error}") from None
    return len(items)
