"""Export a project as one JSON document and import it into another installation.

The format is documented in docs/EXPORT_FORMAT.md; bump FORMAT_VERSION on any change that an
older importer would misread. Components refer to each other by name (unique in a project;
activities unique in their connection), never by database id. No secrets are exported:
connections come back with empty credentials and the status "Needs reconnect", secret
variables with no value.

Activities on a global endpoint (issue 12) are exported under ``global_endpoints``: the
endpoint by name and connector only, never its settings or secrets. The import finds the
importing installation's global endpoint of that name shared with the new project, or stops
with an error naming it.
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
    Step,
    StepKind,
    Transformation,
    Workflow,
)
from designer.design.operations import plain_chain
from designer.projects.models import Membership, Project, Role, Variable
from designer.transfer.validation import ProjectImportError, validate_document

FORMAT = "integration-designer/project"
FORMAT_VERSION = 2  # 2: workflows, operation steps, On Complete (issue 11); 1 still imports
# 3: a file that refers to global endpoints (an importer of version 2 would miss them); files
# without any stay version 2.
GLOBAL_FORMAT_VERSION = 3
READS_UP_TO = GLOBAL_FORMAT_VERSION
# A global endpoint's activities are keyed apart from a same-named project connection's; no
# component name contains ":" (component_name), so the prefix can't clash.
GLOBAL_KEY_PREFIX = "global:"
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
        .select_related("workflow", "on_success", "on_fail", "on_complete")
        .order_by("name")
    )
    steps = _steps_by_operation(project)
    global_endpoints = _export_global_endpoints(project)

    document = {
        "format": FORMAT,
        "format_version": GLOBAL_FORMAT_VERSION if global_endpoints else FORMAT_VERSION,
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
        "workflows": [
            {"name": w.name}
            for w in Workflow.objects.filter(project=project).order_by("order", "id")
        ],
        "operations": [
            {
                "name": o.name,
                "workflow": o.workflow.name,
                "steps": _export_chain(steps.get(o.pk, []), None, ""),
                "position": {"x": o.position_x, "y": o.position_y},
                "timeout_seconds": o.timeout_seconds,
                "on_success": o.on_success.name if o.on_success else None,
                "on_fail": o.on_fail.name if o.on_fail else None,
                "on_complete": o.on_complete.name if o.on_complete else None,
                "on_agent_lost": o.on_agent_lost,
            }
            for o in operations
        ],
        "schedules": _export_schedules(project),
    }
    if global_endpoints:
        document["global_endpoints"] = global_endpoints
    audit_record(
        project=project, actor=actor, action=AuditAction.EXPORT, kind="project", name=project.name
    )
    return document


def _export_global_endpoints(project: Project) -> list[dict[str, Any]]:
    """The global endpoints the project has activities on: a reference (name, connector) and
    the project's own activities; the endpoint's settings and secrets stay here."""
    activities = (
        Activity.objects.filter(project=project, connection__is_global=True)
        .select_related("connection")
        .order_by("connection__name", "name")
    )
    by_endpoint: dict[int, dict[str, Any]] = {}
    for a in activities:
        entry = by_endpoint.setdefault(
            a.connection_id,
            {
                "name": a.connection.name,
                "connector_key": a.connection.connector_key,
                "activities": [],
            },
        )
        entry["activities"].append(
            {"name": a.name, "activity_type": a.activity_type, "config": drop_secrets(a.config)}
        )
    return list(by_endpoint.values())


def _steps_by_operation(project: Project) -> dict[int, list[Step]]:
    by_operation: dict[int, list[Step]] = {}
    for step in (
        Step.objects.filter(operation__project=project)
        .select_related("activity__connection", "transformation")
        .order_by("position", "id")
    ):
        by_operation.setdefault(step.operation_id, []).append(step)
    return by_operation


def _export_chain(steps: list[Step], parent: int | None, branch: str) -> list[dict[str, Any]]:
    """One chain's steps (a condition's branches nested), by name: activities as
    {connection, activity}, transformations and invoked operations by their names."""
    names = _operation_names(steps)
    out = []
    for step in (s for s in steps if s.parent_id == parent and (s.branch or "") == branch):
        item: dict[str, Any] = {"kind": step.kind}
        if step.activity is not None:
            item["activity"] = {
                "connection": step.activity.connection.name,
                "activity": step.activity.name,
            }
            if step.activity.connection.is_global:
                item["activity"]["global"] = True
        if step.transformation is not None:
            item["transformation"] = step.transformation.name
        config = drop_secrets(dict(step.config or {}))
        if step.kind == StepKind.INVOKE and config.get("operation") is not None:
            config["operation"] = names.get(config["operation"])
        if config:
            item["config"] = config
        if step.kind == StepKind.CONDITION:
            branches = {b: _export_chain(steps, step.pk, b) for b in ("true", "false")}
            if any(branches.values()):
                item["branches"] = branches
        out.append(item)
    return out


def _operation_names(steps: list[Step]) -> dict[int, str]:
    ids = {
        s.config.get("operation")
        for s in steps
        if s.kind == StepKind.INVOKE and isinstance(s.config, dict)
    }
    ids.discard(None)
    return dict(Operation.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


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
        version <= READS_UP_TO,
        "format_version",
        f"{version} is newer than this installation reads ({READS_UP_TO}); upgrade first",
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
        shared: list[str] = []  # global endpoints a staff importer shared with the project
        activities.update(
            _import_global_endpoints(project, _items(document, "global_endpoints"), actor, shared)
        )
        transformations = _import_transformations(
            project, _items(document, "transformations"), actor
        )
        workflows = _import_workflows(project, document, actor)
        op_items = _items(document, "operations")
        operations = _import_operations(
            project, op_items, activities, transformations, workflows, actor
        )
        _import_steps(op_items, operations, activities, transformations)
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
            }
            | ({"shared_global_endpoints": shared} if shared else {}),
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


def _import_global_endpoints(
    project: Project, items: list[dict], actor: Any, shared: list[str]
) -> dict[ActivityKey, Activity]:
    """The project's activities on global endpoints, on this installation's global endpoint
    of the same name and connector shared with the new project. One shared with chosen
    projects only is shared with the new project too when a staff member imports (it can't be
    among the chosen before it exists); its name goes in ``shared``."""
    activities: dict[ActivityKey, Activity] = {}
    for i, item in enumerate(items):
        name = item["name"]
        where = f"global_endpoints[{i}] “{name}”"
        found = Connection.objects.global_for(project).filter(name=name).first()
        chosen_only = None
        if found is None:
            # Locked as an unsharing locks it, so the two can't interleave.
            chosen_only = (
                Connection.objects.select_for_update().filter(is_global=True, name=name).first()
            )
            if chosen_only is None:
                problem = (
                    f"no global endpoint “{name}” on this installation: staff define it in "
                    "the console (Global endpoints), then import again"
                )
            elif not getattr(actor, "is_staff", False):
                problem = (
                    f"the global endpoint “{name}” here is shared only with chosen projects, "
                    "and a new project can't be among them before it exists: ask a staff "
                    "member to import this file (a staff import shares that endpoint with the "
                    "new project only)"
                )
            else:
                problem = ""
            _require(not problem, where, problem)
            found = chosen_only
        _require(
            found.connector_key == item.get("connector_key", found.connector_key),
            where,
            f"the global endpoint “{name}” here uses the connector “{found.connector_key}”, "
            f"not “{item.get('connector_key')}”",
        )
        if chosen_only is not None:
            _share_global_endpoint(found, project, actor)
            shared.append(name)
        found.seen_from(project)
        for activity in _import_activities(found, item, where, actor):
            activities[(GLOBAL_KEY_PREFIX + name, activity.name)] = activity
    return activities


def _share_global_endpoint(connection: Connection, project: Project, actor: Any) -> None:
    """Add ``project`` to the global endpoint's chosen projects, audited as the console audits
    a change of its sharing (installation-wide, kind "global endpoint")."""
    before = sorted(connection.shared_with.values_list("name", flat=True))
    connection.shared_with.add(project)
    summary = {"name": connection.name, "connector_key": connection.connector_key}
    audit_record(
        project=None,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=connection,
        kind="global endpoint",  # designer.console.endpoint_services.KIND (a layer above)
        before={**summary, "shared_with": before},
        after={**summary, "shared_with": sorted([*before, project.name])},
    )


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
            project_id=connection.activity_project_id,
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
    prefix = GLOBAL_KEY_PREFIX if ref.get("global") else ""
    found = activities.get((prefix + ref["connection"], ref["activity"]))
    place = "global endpoint" if ref.get("global") else "connection"
    _require(
        found is not None,
        where,
        f"no activity “{ref['activity']}” in {place} “{ref['connection']}”",
    )
    return found


def _import_workflows(project: Project, document: dict, actor: Any) -> dict[str, Workflow]:
    """Version 2's workflows, in order; a version 1 file keeps the project's "Workflow 1"."""
    items = _items(document, "workflows")
    if not items:
        first = project.workflows.order_by("order", "id").first()
        return {first.name: first} if first else {}
    project.workflows.all().delete()  # the empty "Workflow 1" every new project starts with
    workflows: dict[str, Workflow] = {}
    for i, item in enumerate(items):
        workflow = Workflow(project=project, name=item["name"], order=i, updated_by=actor)
        _save(workflow, f"workflows[{i}] “{item['name']}”")
        workflows[workflow.name] = workflow
    return workflows


def _import_operations(
    project: Project,
    items: list[dict],
    activities: dict[ActivityKey, Activity],
    transformations: dict[str, Transformation],
    workflows: dict[str, Workflow],
    actor: Any,
) -> dict[str, Operation]:
    operations: dict[str, Operation] = {}
    first_workflow = next(iter(workflows.values()), None)
    for i, item in enumerate(items):
        where = f"operations[{i}] “{item['name']}”"
        transformation = None
        if item.get("transformation") is not None:
            transformation = transformations.get(item["transformation"])
            _require(
                transformation is not None, where, f"no transformation “{item['transformation']}”"
            )
        workflow = first_workflow
        if item.get("workflow") is not None:
            workflow = workflows.get(item["workflow"])
            _require(workflow is not None, where, f"no workflow “{item['workflow']}”")
        position = item.get("position") or {}
        slots = {
            "source": _find_activity(activities, item.get("source"), f"{where} source"),
            "transformation": transformation,
            "target": _find_activity(activities, item.get("target"), f"{where} target"),
        }
        operation = Operation(
            project=project,
            workflow=workflow,
            name=item["name"],
            position_x=int(position.get("x", 0)),
            position_y=int(position.get("y", 0)),
            timeout_seconds=int(item.get("timeout_seconds") or 2 * 60 * 60),
            on_agent_lost=item.get("on_agent_lost") or AgentLostPolicy.ERROR,
            updated_by=actor,
        )
        _save(operation, where)
        if item.get("steps") is None:  # a version 1 file: its slots are the chain
            plain_chain(operation, **slots)
        operations[operation.name] = operation
    return operations


def _import_actions(items: list[dict], operations: dict[str, Operation]) -> None:
    """Actions second: an operation may chain to one defined after it."""
    for i, item in enumerate(items):
        operation = operations[item["name"]]
        for action in ("on_success", "on_fail", "on_complete"):
            ref = item.get(action)
            if ref is None:
                continue
            _require(ref in operations, f"operations[{i}] {action}", f"no operation “{ref}” to run")
            setattr(operation, action, operations[ref])
        operation.save(update_fields=["on_success", "on_fail", "on_complete"])


def _import_steps(
    items: list[dict],
    operations: dict[str, Operation],
    activities: dict[ActivityKey, Activity],
    transformations: dict[str, Transformation],
) -> None:
    """Version 2's chains (a version 1 file has no "steps": its operations have the steps
    their source / transformation / target gave). Checked like the designer's placements
    (validate_chain)."""
    from designer.design.operations import validate_chain

    for i, item in enumerate(items):
        if item.get("steps") is None:
            continue
        operation = operations[item["name"]]
        where = f"operations[{i}] “{item['name']}”"
        created = _import_chain(
            item["steps"], operation, None, "", where, activities, transformations, operations
        )
        reason = validate_chain(created)
        _require(reason is None, where, str(reason))


def _import_chain(
    items: list[dict],
    operation: Operation,
    parent: Step | None,
    branch: str,
    where: str,
    activities: dict[ActivityKey, Activity],
    transformations: dict[str, Transformation],
    operations: dict[str, Operation],
) -> list[Step]:
    created: list[Step] = []
    for position, item in enumerate(items):
        at = f"{where} steps{'.' + branch if branch else ''}[{position}]"
        transformation = None
        if item.get("transformation") is not None:
            transformation = transformations.get(item["transformation"])
            _require(
                transformation is not None, at, f"no transformation “{item['transformation']}”"
            )
        config = dict(item.get("config") or {})
        if item["kind"] == StepKind.INVOKE and config.get("operation") is not None:
            invoked = operations.get(config["operation"])
            _require(invoked is not None, at, f"no operation “{config['operation']}” to invoke")
            config["operation"] = invoked.pk
        step = Step.objects.create(
            operation=operation,
            parent=parent,
            branch=branch,
            position=position,
            kind=item["kind"],
            activity=_find_activity(activities, item.get("activity"), at),
            transformation=transformation,
            config=config,
        )
        created.append(step)
        for sub in ("true", "false"):
            nested = (item.get("branches") or {}).get(sub) or []
            created += _import_chain(
                nested, operation, step, sub, where, activities, transformations, operations
            )
    return created


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
