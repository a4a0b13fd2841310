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

FORMAT = "integration-designer/project"
FORMAT_VERSION = 1
NEEDS_CREDENTIALS = "Imported: enter the credentials again, then Test."


class ProjectImportError(ValueError):
    """The document can't be imported; the message says what is wrong and where."""


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


def _import_schedules(document: dict, operations: dict[str, Any], actor: Any) -> int:
    """Schedules come back disabled: their endpoints need credentials before anything runs."""
    items = document.get("schedules") or []
    _require(isinstance(items, list), "schedules", "must be a list")
    if not items:
        return 0
    from designer.runs.schedules import schedule_save
    from designer.runs.services import RunRefused

    for i, item in enumerate(items):
        where = f"schedules[{i}]"
        _require(isinstance(item, dict), where, "must be an object")
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


# --- Import ---------------------------------------------------------------------------------


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ProjectImportError(f"{where}: {message}")


def _items(document: dict, key: str) -> list[dict]:
    items = document.get(key, [])
    _require(isinstance(items, list), key, "must be a list")
    for i, item in enumerate(items):
        _require(isinstance(item, dict), f"{key}[{i}]", "must be an object")
        _require(
            isinstance(item.get("name"), str) and item["name"].strip(),
            f"{key}[{i}]",
            "needs a name",
        )
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
    # One "Imported" entry for the whole project, not one "Created" per component.
    with quiet_signals():
        return _project_import(document=document, actor=actor, name=name)


def _project_import(*, document: Any, actor: Any, name: str) -> Project:
    from connectors.registry import CONNECTORS

    _check_header(document)
    meta = document.get("project") or {}
    _require(isinstance(meta, dict), "project", "must be an object")
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

    for i, item in enumerate(_items(document, "variables")):
        secret = bool(item.get("is_secret"))
        variable = Variable(
            project=project,
            name=item["name"],
            is_secret=secret,
            value="" if secret else str(item.get("value", "")),
            updated_by=actor,
        )
        _save(variable, f"variables[{i}] “{item['name']}”")

    activities: dict[tuple[str, str], Activity] = {}
    for i, item in enumerate(_items(document, "connections")):
        where = f"connections[{i}] “{item['name']}”"
        key = item.get("connector_key")
        _require(key in CONNECTORS, where, f"connector “{key}” is not installed here")
        config = item.get("config") or {}
        _require(isinstance(config, dict), where, "config must be an object")
        connection = Connection(
            project=project,
            connector_key=key,
            name=item["name"],
            config=config,
            secrets_encrypted="",
            status=ConnectionStatus.NEEDS_RECONNECT,
            status_message=NEEDS_CREDENTIALS,
            updated_by=actor,
        )
        _save(connection, where)
        known_types = _activity_types(key)
        for j, sub in enumerate(_items(item, "activities")):
            sub_where = f"{where} activities[{j}] “{sub['name']}”"
            _require(
                isinstance(sub.get("activity_type"), str) and sub["activity_type"],
                sub_where,
                "needs an activity_type",
            )
            _require(
                known_types is None or sub["activity_type"] in known_types,
                sub_where,
                f"the connector has no activity type “{sub['activity_type']}”",
            )
            activity = Activity(
                project=project,
                connection=connection,
                activity_type=sub["activity_type"],
                name=sub["name"],
                config=sub.get("config") or {},
                updated_by=actor,
            )
            _save(activity, sub_where)
            activities[(connection.name, activity.name)] = activity

    transformations: dict[str, Transformation] = {}
    for i, item in enumerate(_items(document, "transformations")):
        mapping = item.get("mapping") or []
        _require(isinstance(mapping, list), f"transformations[{i}]", "mapping must be a list")
        transformation = Transformation(
            project=project, name=item["name"], mapping=mapping, updated_by=actor
        )
        _save(transformation, f"transformations[{i}] “{item['name']}”")
        transformations[transformation.name] = transformation

    def find_activity(ref: Any, where: str) -> Activity | None:
        if ref is None:
            return None
        _require(isinstance(ref, dict), where, "must be {connection, activity}")
        found = activities.get((ref.get("connection"), ref.get("activity")))
        _require(
            found is not None,
            where,
            f"no activity “{ref.get('activity')}” in connection “{ref.get('connection')}”",
        )
        return found

    operations: dict[str, Operation] = {}
    op_items = _items(document, "operations")
    for i, item in enumerate(op_items):
        where = f"operations[{i}] “{item['name']}”"
        transformation = None
        if item.get("transformation") is not None:
            transformation = transformations.get(item["transformation"])
            _require(
                transformation is not None,
                where,
                f"no transformation “{item['transformation']}”",
            )
        position = item.get("position") or {}
        policy = item.get("on_agent_lost") or AgentLostPolicy.ERROR
        _require(policy in AgentLostPolicy.values, where, f"unknown on_agent_lost “{policy}”")
        operation = Operation(
            project=project,
            name=item["name"],
            source=find_activity(item.get("source"), f"{where} source"),
            transformation=transformation,
            target=find_activity(item.get("target"), f"{where} target"),
            position_x=int(position.get("x", 0)),
            position_y=int(position.get("y", 0)),
            timeout_seconds=int(item.get("timeout_seconds") or 2 * 60 * 60),
            on_agent_lost=policy,
            updated_by=actor,
        )
        _save(operation, where)
        operations[operation.name] = operation
    # Actions second: an operation may chain to one defined after it.
    for i, item in enumerate(op_items):
        operation = operations[item["name"]]
        for action in ("on_success", "on_fail"):
            ref = item.get(action)
            if ref is None:
                continue
            _require(ref in operations, f"operations[{i}] {action}", f"no operation “{ref}” to run")
            setattr(operation, action, operations[ref])
        operation.save(update_fields=["on_success", "on_fail"])

    schedules = _import_schedules(document, operations, actor)
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
