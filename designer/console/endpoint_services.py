"""Global endpoints (issue 12): connections staff define in the console and share with every
project (``shared_with=None``) or with the chosen projects. Projects build their own activities on
them (see ``Connection.usable_by``) but never see their secrets or change them.

Each write is audited installation-wide (``project=None``) as a "global endpoint". A delete
while projects use it is refused, naming them; so is a change of sharing that would leave a
project with activities on an endpoint it can no longer see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch

from connectors.base import CheckResult, Connector
from connectors.registry import all_connectors, get_connector
from designer.audit.models import AuditAction
from designer.audit.services import audit_record
from designer.crypto import encrypt_json
from designer.design import integrations
from designer.design import services as design_services
from designer.design.models import Connection
from designer.design.versioning import versioned_update
from designer.projects.models import Project
from designer.projects.variables import references

KIND = "global endpoint"


class GlobalEndpointError(ValueError):
    """A global endpoint change that is refused; the message says why."""


def global_connectors() -> list[Connector]:
    """Connectors a global endpoint can use: those that need no project of their own (a Files
    connection keeps its files in its project's folder)."""
    return [c for c in all_connectors() if not integrations.needs_project(c.key)]


def global_connector(key: str) -> Connector:
    """KeyError for a connector that isn't installed or can't be global."""
    connector = get_connector(key)
    if integrations.needs_project(key):
        raise KeyError(key)
    return connector


def _names_of(projects: Iterable[Project]) -> str:
    names = sorted(p.name for p in projects)
    shown = ", ".join(f"“{n}”" for n in names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def projects_using(connection: Connection) -> list[Project]:
    """Projects with activities on ``connection``, by name."""
    return list(
        Project.objects.filter(activities__connection=connection).distinct().order_by("name")
    )


def global_endpoint_rows() -> list[dict[str, Any]]:
    """Every global endpoint with its chosen projects and the projects using it (``used_by``),
    by name: three queries however many endpoints there are (the list's "Used by" read one
    per endpoint)."""
    connections = list(
        Connection.objects.filter(is_global=True).prefetch_related(
            Prefetch("shared_with", queryset=Project.objects.order_by("name"))
        )
    )
    users: dict[int, list[Project]] = defaultdict(list)
    using = (
        Project.objects.filter(activities__connection__in=connections)
        .annotate(using_connection_id=F("activities__connection_id"))
        .distinct()
        .order_by("name", "pk")
    )
    for project in using:
        users[project.using_connection_id].append(project)
    return [{"connection": c, "used_by": users[c.pk]} for c in connections]


def _shared_projects(ids: Iterable[int] | None) -> list[Project]:
    """The chosen projects ([] for "all projects", ``ids`` None)."""
    if ids is None:
        return []
    wanted = {int(i) for i in ids}
    if not wanted:
        raise GlobalEndpointError(
            "Choose the projects to share it with, or share it with all projects."
        )
    projects = list(Project.objects.filter(pk__in=wanted).order_by("name"))
    if len(projects) != len(wanted):
        raise GlobalEndpointError("One of the chosen projects does not exist any more.")
    return projects


def _check_config(config: Mapping[str, Any]) -> None:
    # A project variable means something else in each project: a global endpoint is the same
    # connection for all of them.
    used = sorted(references(dict(config)))
    if used:
        refs = ", ".join(f"[{n}]" for n in used)
        raise GlobalEndpointError(
            f"A global endpoint can't use project variables ({refs}): enter the values."
        )


def _name_taken(name: str) -> str:
    return f"A global endpoint named “{name}” already exists."


def _summary(connection: Connection, shared: list[Project]) -> dict[str, Any]:
    """What the audit keeps of it: settings and sharing, never the secrets."""
    return {
        "name": connection.name,
        "connector_key": connection.connector_key,
        "config": dict(connection.config),
        "shared_with": "all projects" if connection.shared_with_all else [p.name for p in shared],
    }


@transaction.atomic
def global_endpoint_create(
    *,
    connector_key: str,
    name: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    shared_with: Iterable[int] | None = None,
    actor: Any,
) -> Connection:
    """A new global endpoint, shared with every project (``shared_with`` None) or with the
    projects of those ids."""
    global_connector(connector_key)
    _check_config(config)
    shared = _shared_projects(shared_with)
    if Connection.objects.filter(is_global=True, name__iexact=name).exists():
        raise GlobalEndpointError(_name_taken(name))
    try:
        with transaction.atomic():  # a savepoint: the unique index has the last word
            connection = Connection.objects.create(
                project=None,
                is_global=True,
                shared_with_all=shared_with is None,
                connector_key=connector_key,
                name=name,
                config=dict(config),
                secrets_encrypted=encrypt_json({k: v for k, v in secrets.items() if v}),
                updated_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        raise GlobalEndpointError(_name_taken(name)) from None
    connection.shared_with.set(shared)
    audit_record(
        project=None,
        actor=actor,
        action=AuditAction.CREATE,
        obj=connection,
        kind=KIND,
        after=_summary(connection, shared),
    )
    return connection


def _locked(connection_id: int) -> Connection:
    row = Connection.objects.select_for_update().filter(pk=connection_id, is_global=True).first()
    if row is None:
        raise GlobalEndpointError("No such global endpoint.")
    return row


def global_endpoint_update(
    *,
    connection: Connection,
    expected_version: int,
    name: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    cleared: Iterable[str] = (),
    shared_with: Iterable[int] | None = None,
    actor: Any,
) -> Connection:
    """Save the form (secrets merge as in a project's endpoint) and the sharing. Sharing that
    leaves out a project using the endpoint is refused, naming the projects."""
    _check_config(config)
    with transaction.atomic():
        row = _locked(connection.pk)
        shared = _shared_projects(shared_with)
        if shared_with is not None:
            keep = {p.pk for p in shared}
            lost = [p for p in projects_using(row) if p.pk not in keep]
            if lost:
                raise GlobalEndpointError(
                    f"Can't stop sharing “{row.name}” with {_names_of(lost)}: "
                    f"{'each uses' if len(lost) > 1 else 'it uses'} it in its activities. "
                    "Keep sharing with them, or remove those activities first."
                )
        before = _summary(row, list(row.shared_with.order_by("name")))
        if (
            name.lower() != row.name.lower()
            and Connection.objects.filter(is_global=True, name__iexact=name).exists()
        ):
            raise GlobalEndpointError(_name_taken(name))
        fields = design_services.edited_connection_fields(
            row, name=name, config=config, secrets=secrets, cleared=cleared
        )
        fields["shared_with_all"] = shared_with is None
        try:
            with transaction.atomic():
                versioned_update(
                    Connection,
                    pk=row.pk,
                    expected_version=expected_version,
                    user=actor,
                    **fields,
                )
        except IntegrityError:
            raise GlobalEndpointError(_name_taken(name)) from None
        row.refresh_from_db()
        row.shared_with.set(shared)
        audit_record(
            project=None,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=row,
            kind=KIND,
            before=before,
            after=_summary(row, shared),
        )
    connection.refresh_from_db()
    return connection


@transaction.atomic
def global_endpoint_delete(*, connection: Connection, actor: Any) -> None:
    row = _locked(connection.pk)
    users = projects_using(row)
    if users:
        raise GlobalEndpointError(
            f"“{row.name}” can't be deleted: {len(users)} project"
            f"{'s use' if len(users) > 1 else ' uses'} it ({_names_of(users)}). "
            "Remove their activities on it first."
        )
    audit_record(
        project=None,
        actor=actor,
        action=AuditAction.DELETE,
        obj=row,
        kind=KIND,
        before=_summary(row, list(row.shared_with.order_by("name"))),
    )
    row.delete()


def global_endpoint_test(*, connection: Connection, actor: Any) -> CheckResult:
    """A real call through the connector; audited as a "test" of the global endpoint."""
    return design_services.connection_test(connection=connection, user=actor)


def global_endpoint_oauth_complete(
    *,
    connection: Connection,
    actor: Any,
    session: Any,
    params: Mapping[str, str],
    redirect_uri: str,
) -> tuple[bool, str]:
    """The end of Connect (as a project's endpoint does it), audited with who connected."""
    authorised, message = design_services.connection_oauth_complete(
        connection=connection,
        user=actor,
        session=session,
        params=params,
        redirect_uri=redirect_uri,
    )
    audit_record(
        project=None,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=connection,
        kind=KIND,
        after={"connect": "authorised" if authorised else "not authorised", "message": message},
    )
    return authorised, message
