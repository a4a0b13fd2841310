"""Pickers in activity forms: options from the connected account (issue 14).

A connector field declaring ``picker="lists"`` gets a text input tied to a <datalist> that
is filled from ``Connector.picker_options`` when the field is first focused, narrowed by
what is typed (server-side search), and refreshed on demand. Options are cached per
connection and kind for ``PICKER_CACHE_SECONDS`` (a few minutes) so opening forms does not
spend the API's daily quota; typed ids and [variables] still work (the input stays free).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.urls import reverse

from connectors.base import ConnectorError
from connectors.registry import get_connector
from designer.design.connection_context import DbConnection
from designer.design.integrations import connection_extras
from designer.design.models import Connection

PICKER_CACHE_SECONDS = 300
MAX_SHOWN = 200


def _key(connection: Connection, kind: str) -> str:
    # The connection's version changes with its settings and credentials: a new account
    # is never served the old one's options.
    return f"picker:{connection.pk}:{getattr(connection, 'version', 0)}:{kind}"


def options(
    connection: Connection, kind: str, *, search: str = "", refresh: bool = False
) -> tuple[list[tuple[str, str]], str]:
    """(options matching ``search``, error message or ""); live at most every few minutes."""
    key = _key(connection, kind)
    found = None if refresh else cache.get(key)
    if found is None:
        connector = get_connector(connection.connector_key)
        try:
            found = connector.picker_options(
                DbConnection(connection, connection_extras(connection)), kind
            )
        except ConnectorError as exc:
            return [], exc.message
        cache.set(key, found, PICKER_CACHE_SECONDS)
    words = search.lower().split()
    chosen = [o for o in found if all(w in f"{o[0]} {o[1]}".lower() for w in words)]
    return chosen[:MAX_SHOWN], ""


def attach(form: Any, project_id: int, connection: Connection) -> None:
    """Point every picker field of an activity form at its options URL."""
    for spec in getattr(form, "specs", ()):
        if getattr(spec, "picker", "") and spec.name in form.fields:
            url = reverse("design:picker", args=[project_id, connection.pk, spec.picker])
            form.fields[spec.name].widget.attrs.update(
                {"data-picker-url": url, "data-picker": spec.picker}
            )


def test_activity(connection: Connection, activity_key: str, config: dict[str, Any]) -> Any:
    """The wizard's Test: the objects the settings name, looked up live in the account
    (``Connector.test_activity``; a ConfigCheck). Raises ConnectorError when it can't read."""
    connector = get_connector(connection.connector_key)
    return connector.test_activity(
        DbConnection(connection, connection_extras(connection)), activity_key, config
    )


def target_pickers(project_id: int, activity: Any) -> list[dict[str, str]]:
    """The mapping editor's pickers of target fields from the account (Constant Contact's
    custom fields): each picker's options URL (the same cached, searched options as the
    activity forms) and the path a chosen value is mapped through (``{value}``)."""
    if activity is None:
        return []
    try:
        kind = activity.type
    except KeyError:  # the connector is not installed
        return []
    found = []
    for number, picker in enumerate(kind.target_field_pickers(activity.config or {}), 1):
        url = reverse("design:picker", args=[project_id, activity.connection_id, picker.kind])
        found.append(
            {
                "id": f"target-pick-{number}",
                "url": url,
                "label": picker.label,
                "path": picker.path,
                "kind": picker.kind.replace("_", " "),
            }
        )
    return found


def test_targets(activity: Any, rules: Any) -> list[str]:
    """The mapping's Test (its Preview): target fields picked from the account (custom fields
    by name) that the account does not have, one message each ("" problems: [])."""
    if activity is None:
        return []
    targets = [
        str(rule.get("target") or "").strip() for rule in rules or () if isinstance(rule, dict)
    ]
    try:
        if not activity.type.target_field_pickers(activity.config or {}):
            return []
    except KeyError:
        return []
    connection = activity.connection
    connector = get_connector(connection.connector_key)
    try:
        found = connector.test_targets(
            DbConnection(connection, connection_extras(connection)),
            activity.activity_type,
            activity.config or {},
            [t for t in targets if t],
        )
    except ConnectorError as exc:
        return [f"Could not look the target fields up in the account: {exc.message}"]
    return [f"“{target}”: {message}" for target, message in found.items()]
