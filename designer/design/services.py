"""Writes to endpoints: connections (credentials, Test, OAuth2) and activities.

Operations, steps and undo live in ``designer.design.operations``, ``step_services`` and ``undo``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as secrets_module
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.base import CheckOutcome, CheckResult, ConnectorError
from connectors.registry import get_connector
from designer.audit.models import AuditAction
from designer.audit.services import audit_record
from designer.crypto import decrypt_json, encrypt_json
from designer.design.connection_context import DbConnection
from designer.design.integrations import connection_extras
from designer.design.models import (
    Activity,
    Connection,
    ConnectionStatus,
    Operation,
    Transformation,
)
from designer.design.versioning import versioned_update
from designer.projects.models import Project
from designer.projects.variables import MissingVariable

OAUTH_SESSION_KEY = "design.oauth"
OAUTH_MAX_AGE_SECONDS = 15 * 60


class ComponentInUse(Exception):
    """Refused because operations use the component; ``message`` names them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NameTaken(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@contextmanager
def name_taken_on_clash(message: str) -> Iterator[None]:
    """Run a write in a savepoint; a unique-name clash (IntegrityError) is NameTaken(message)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise NameTaken(message) from None


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base 2``, ``base 3``... whichever is free (case-insensitive)."""
    used = {name.lower() for name in taken}
    if base.lower() not in used:
        return base
    n = 2
    while f"{base} {n}".lower() in used:
        n += 1
    return f"{base} {n}"


def copy_name(name: str, taken: Iterable[str]) -> str:
    return unique_name(f"{name} copy"[:95], taken)


# --------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------


def merge_secrets(
    stored: Mapping[str, Any], *, entered: Mapping[str, str], cleared: Iterable[str]
) -> dict[str, Any]:
    """A blank secret input keeps the stored value; "clear" removes it; anything else sets."""
    merged = dict(stored)
    for name in cleared:
        merged.pop(name, None)
    for name, value in entered.items():
        if value:
            merged[name] = value
    return merged


def _endpoint_name_taken(name: str) -> str:
    return f"An endpoint named “{name}” already exists in this project."


@transaction.atomic
def connection_create(
    *,
    project: Project,
    connector_key: str,
    name: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    user: Any,
) -> Connection:
    get_connector(connector_key)  # unknown keys fail here, not at run time
    with name_taken_on_clash(_endpoint_name_taken(name)):
        return Connection.objects.create(
            project=project,
            connector_key=connector_key,
            name=name,
            config=dict(config),
            secrets_encrypted=encrypt_json({k: v for k, v in secrets.items() if v}),
            updated_by=user,
        )


def edited_connection_fields(
    row: Connection,
    *,
    name: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    cleared: Iterable[str] = (),
) -> dict[str, Any]:
    """The fields an endpoint form's save writes to the locked ``row`` (a project's endpoint or
    a global one): secrets merged with the stored ones, and "Not tested" once what was tested
    is no longer what is stored."""
    stored = decrypt_json(row.secrets_encrypted)
    merged = merge_secrets(stored, entered=secrets, cleared=cleared)
    fields: dict[str, Any] = {
        "name": name,
        "config": dict(config),
        "secrets_encrypted": encrypt_json(merged),
    }
    if config != row.config or merged != stored:
        fields.update(status=ConnectionStatus.UNTESTED, status_message="")
    return fields


def connection_update(
    *,
    connection: Connection,
    expected_version: int,
    name: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    cleared: Iterable[str] = (),
    user: Any,
) -> Connection:
    """Save the form; secrets merge with the stored ones (see ``merge_secrets``)."""
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection.pk)
        fields = edited_connection_fields(
            row, name=name, config=config, secrets=secrets, cleared=cleared
        )
        with name_taken_on_clash(_endpoint_name_taken(name)):
            versioned_update(
                Connection, pk=connection.pk, expected_version=expected_version, user=user, **fields
            )
    connection.refresh_from_db()
    return connection


def operations_using(activity_ids: Iterable[int]) -> list[Operation]:
    ids = list(activity_ids)
    if not ids:
        return []
    return list(Operation.objects.filter(steps__activity_id__in=ids).distinct().order_by("name"))


def _refuse_if_used(what: str, activity_ids: Iterable[int]) -> None:
    used = operations_using(activity_ids)
    if used:
        names = ", ".join(f"“{op.name}”" for op in used)
        raise ComponentInUse(
            f"{what} can't be deleted: its activities are used in {names}. "
            "Remove them from those operations first."
        )


@transaction.atomic
def connection_delete(*, connection: Connection) -> None:
    _refuse_if_used(
        f"Endpoint “{connection.name}”", connection.activities.values_list("pk", flat=True)
    )
    connection.delete()


@transaction.atomic
def connection_duplicate(*, connection: Connection, user: Any) -> Connection:
    """Copy an endpoint: its settings and all its activities, but not its credentials.

    Two connections sharing one rotating OAuth2 refresh token would log each other out, so
    the copy starts without secrets and asks for them (or for Connect) again.
    """
    taken = Connection.objects.filter(project_id=connection.project_id).values_list(
        "name", flat=True
    )
    copy = Connection.objects.create(
        project_id=connection.project_id,
        connector_key=connection.connector_key,
        name=copy_name(connection.name, taken),
        config=dict(connection.config),
        status_message="Credentials are not copied: enter them, or connect again, then Test.",
        updated_by=user,
    )
    Activity.objects.bulk_create(
        Activity(
            project_id=activity.project_id,
            connection=copy,
            activity_type=activity.activity_type,
            name=activity.name,
            config=dict(activity.config),
            updated_by=user,
        )
        for activity in connection.activities.all()
    )
    return copy


def connection_test(*, connection: Connection, user: Any = None) -> CheckResult:
    """A real call through the connector; the outcome is stored on the connection."""
    result = _connection_test(connection)
    audit_record(
        project=connection.project,
        actor=user,
        action=AuditAction.TEST,
        obj=connection,
        # A global endpoint's entries read as the console's (issue 12).
        kind="global endpoint" if connection.is_global else "",
        after={"outcome": str(result.outcome), "message": result.message},
    )
    return result


def _connection_test(connection: Connection) -> CheckResult:
    connector = get_connector(connection.connector_key)
    context = _context(connection)
    try:
        errors = connector.validate_connection(context.config)
    except MissingVariable as exc:
        result = CheckResult(CheckOutcome.INVALID_CONFIG, str(exc))
        _store_test_result(connection, result)
        return result
    if errors:
        result = CheckResult(
            CheckOutcome.INVALID_CONFIG,
            "The connection settings are not valid: "
            + "; ".join(f"{k}: {v}" for k, v in errors.items()),
        )
    else:
        try:
            result = connector.test(context)
        except ConnectorError as exc:
            result = CheckResult(CheckOutcome.UNEXPECTED, exc.message)
    _store_test_result(connection, result)
    return result


def _store_test_result(connection: Connection, result: CheckResult) -> None:
    current = Connection.objects.filter(pk=connection.pk).values_list("status", flat=True).first()
    if result.ok:
        status = ConnectionStatus.CONNECTED
    elif current == ConnectionStatus.NEEDS_RECONNECT:
        # Set by the connector (mark_needs_reconnect) during or before this test: only a new
        # authorisation, not another Test, can fix it.
        status = ConnectionStatus.NEEDS_RECONNECT
    else:
        status = ConnectionStatus.FAILING
    message = result.message + (f" — {result.detail}" if result.detail else "")
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        status=status, status_message=message, last_tested_at=now
    )
    connection.status, connection.status_message, connection.last_tested_at = status, message, now


def connection_usage(connection: Connection) -> str:
    """What the connection spent of the far side's limits today, e.g. "today: 12 of 10,000
    calls", for the key a run would use (project variables filled in). "" when a variable is
    missing or the connector says nothing. Makes no call."""
    try:
        return connection.connector.usage(DbConnection(connection).config)
    except (KeyError, MissingVariable):
        return ""


def _context(connection: Connection) -> DbConnection:
    return DbConnection(connection, connection_extras(connection))


# OAuth2 authorization code flow with PKCE (S256). The verifier never leaves the session.


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def connection_oauth_start(
    *, connection: Connection, user: Any, session: MutableMapping[str, Any], redirect_uri: str
) -> str:
    """Remember state + verifier for this connection and user; return the authorize URL."""
    state = secrets_module.token_urlsafe(32)
    verifier = secrets_module.token_urlsafe(64)
    pending = {
        key: value
        for key, value in dict(session.get(OAUTH_SESSION_KEY, {})).items()
        if time.time() - value.get("created", 0) < OAUTH_MAX_AGE_SECONDS
    }
    pending[state] = {
        "connection": connection.pk,
        "user": user.pk,
        "verifier": verifier,
        "created": time.time(),
    }
    session[OAUTH_SESSION_KEY] = pending
    return get_connector(connection.connector_key).authorization_url(
        _context(connection),
        redirect_uri=redirect_uri,
        state=state,
        code_challenge=_challenge(verifier),
    )


def connection_oauth_complete(
    *,
    connection: Connection,
    user: Any,
    session: MutableMapping[str, Any],
    params: Mapping[str, str],
    redirect_uri: str,
) -> tuple[bool, str]:
    """Check state, exchange the code, then Test; (authorised, message for the user)."""
    pending = dict(session.get(OAUTH_SESSION_KEY, {}))
    entry = pending.pop(params.get("state", ""), None)
    session[OAUTH_SESSION_KEY] = pending
    if (
        entry is None
        or entry["connection"] != connection.pk
        or entry["user"] != user.pk
        or time.time() - entry["created"] > OAUTH_MAX_AGE_SECONDS
    ):
        return False, (
            "Not authorised: the sign-in answer did not match a request started here "
            "(or it expired). Press Connect with Constant Contact again."
        )
    if params.get("error"):
        detail = params.get("error_description") or params["error"]
        _mark(connection, ConnectionStatus.FAILING, f"Authorisation refused: {detail}")
        return False, f"Not authorised: {detail}"
    if not params.get("code"):
        return False, "Not authorised: the answer carried no authorisation code."
    try:
        get_connector(connection.connector_key).complete_authorization(
            _context(connection),
            code=params["code"],
            redirect_uri=redirect_uri,
            code_verifier=entry["verifier"],
        )
    except ConnectorError as exc:
        _mark(connection, ConnectionStatus.FAILING, f"Authorisation failed: {exc.message}")
        return False, f"Not authorised: {exc.message}"
    result = connection_test(connection=connection)
    if result.ok:
        return True, f"Authorised. {result.message}"
    return True, f"Authorised, but the Test failed: {connection.status_message}"


def _mark(connection: Connection, status: str, message: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(status=status, status_message=message)
    connection.status, connection.status_message = status, message


# --------------------------------------------------------------------------------------------
# Activities
# --------------------------------------------------------------------------------------------


def _activity_name_taken(name: str) -> str:
    return f"This endpoint already has an activity named “{name}”."


def activity_create(
    *,
    connection: Connection,
    activity_type: str,
    name: str,
    config: Mapping[str, Any],
    user: Any,
) -> Activity:
    connection.connector.activity_type(activity_type)  # KeyError for unknown types
    with transaction.atomic():
        if connection.is_global:
            _require_shared(connection)
        with name_taken_on_clash(_activity_name_taken(name)):
            return Activity.objects.create(
                # On a global endpoint: the project it is used from (Connection.seen_from).
                project_id=connection.activity_project_id,
                connection=connection,
                activity_type=activity_type,
                name=name,
                config=dict(config),
                updated_by=user,
            )


def _require_shared(connection: Connection) -> None:
    """A global endpoint takes a project's new activity only while it is shared with that
    project: checked under its row lock, which an unsharing holds while it checks who uses it
    (designer.console.endpoint_services), so neither can slip past the other."""
    project_id = connection.activity_project_id
    row = Connection.objects.select_for_update().filter(pk=connection.pk).first()
    shared = (
        row is not None
        and project_id is not None
        and Connection.objects.global_for(Project(pk=project_id)).filter(pk=row.pk).exists()
    )
    if not shared:
        raise PermissionDenied(
            f"The global endpoint “{connection.name}” is not shared with this project."
        )


def activity_create_default(*, connection: Connection, activity_type: str, user: Any) -> Activity:
    """A new activity with the type's defaults, named after the type (dropped from the palette)."""
    kind = connection.connector.activity_type(activity_type)
    taken = connection.activities.filter(project_id=connection.activity_project_id).values_list(
        "name", flat=True
    )
    return activity_create(
        connection=connection,
        activity_type=activity_type,
        name=unique_name(kind.name, taken),
        config=kind.default_config(),
        user=user,
    )


def activity_update(
    *,
    activity: Activity,
    expected_version: int,
    name: str,
    config: Mapping[str, Any],
    user: Any,
) -> Activity:
    with name_taken_on_clash(_activity_name_taken(name)):
        versioned_update(
            Activity,
            pk=activity.pk,
            expected_version=expected_version,
            user=user,
            name=name,
            config=dict(config),
        )
    activity.refresh_from_db()
    return activity


def activity_rename(
    *, activity: Activity, expected_version: int | None, name: str, user: Any
) -> Activity:
    return activity_update(
        activity=activity,
        expected_version=expected_version if expected_version is not None else activity.version,
        name=name,
        config=activity.config,
        user=user,
    )


@transaction.atomic
def activity_delete(*, activity: Activity) -> None:
    _refuse_if_used(f"Activity “{activity.name}”", [activity.pk])
    activity.delete()


def activity_duplicate(*, activity: Activity, user: Any) -> Activity:
    taken = Activity.objects.filter(
        connection_id=activity.connection_id, project_id=activity.project_id
    ).values_list("name", flat=True)
    return Activity.objects.create(
        project_id=activity.project_id,
        connection_id=activity.connection_id,
        activity_type=activity.activity_type,
        name=copy_name(activity.name, taken),
        config=dict(activity.config),
        updated_by=user,
    )


# --------------------------------------------------------------------------------------------
# Transformations (the mapping itself is edited in designer.transformations)
# --------------------------------------------------------------------------------------------


def transformation_rename(
    *, transformation: Transformation, expected_version: int | None, name: str, user: Any
) -> Transformation:
    with name_taken_on_clash(f"A transformation named “{name}” already exists."):
        versioned_update(
            Transformation,
            pk=transformation.pk,
            expected_version=expected_version,
            user=user,
            name=name,
        )
    transformation.refresh_from_db()
    return transformation


def transformation_duplicate(*, transformation: Transformation, user: Any) -> Transformation:
    taken = Transformation.objects.filter(project_id=transformation.project_id).values_list(
        "name", flat=True
    )
    return Transformation.objects.create(
        project_id=transformation.project_id,
        name=copy_name(transformation.name, taken),
        mapping=list(transformation.mapping),
        updated_by=user,
    )


@transaction.atomic
def transformation_delete(*, transformation: Transformation) -> None:
    used = list(
        Operation.objects.filter(steps__transformation=transformation)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )
    if used:
        names = ", ".join(f"“{n}”" for n in used)
        raise ComponentInUse(
            f"Transformation “{transformation.name}” can't be deleted: it is used in {names}."
        )
    transformation.delete()
