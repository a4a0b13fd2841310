"""The demo project `make run` sets up: a Constant Contact endpoint on the local sandbox, a
Files endpoint, and two ready operations (export contacts to CSV; create sample contacts)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connectors.registry import CONNECTORS
from designer.crypto import encrypt_json
from designer.design.models import Activity, Connection, Operation, Transformation
from designer.design.operations import ROW_HEIGHT, plain_chain
from designer.projects.models import Membership, Project, Role

DEMO_PROJECT = "Demo: Constant Contact sandbox"
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # the sandbox's demo app; not a real credential

SAMPLE_CONTACTS = """email,first_name,last_name
ada@example.com,Ada,Lovelace
grace@example.com,Grace,Hopper
not-an-email,Broken,Row
"""


def _activity(connection: Connection, activity_type: str, name: str, **config: Any) -> Activity:
    activity, _ = Activity.objects.get_or_create(
        connection=connection,
        name=name,
        defaults={
            "project": connection.project,
            "activity_type": activity_type,
            "config": {
                **connection.connector.activity_type(activity_type).default_config(),
                **config,
            },
        },
    )
    return activity


def _operation(project: Project, name: str, source, target, rules, y: int) -> None:
    if Operation.objects.filter(project=project, name=name).exists():
        return
    transformation, _ = Transformation.objects.get_or_create(
        project=project, name=name, defaults={"mapping": rules}
    )
    operation = Operation.objects.create(project=project, name=name, position_x=40, position_y=y)
    plain_chain(operation, source=source, transformation=transformation, target=target)


@transaction.atomic
def demo_project_ensure(*, owner, sandbox_url: str) -> Project:
    project, _ = Project.objects.get_or_create(name=DEMO_PROJECT, defaults={"created_by": owner})
    Membership.objects.update_or_create(project=project, user=owner, defaults={"role": Role.ADMIN})
    if "constant_contact" not in CONNECTORS or "files" not in CONNECTORS:
        return project
    contact_center, _ = Connection.objects.get_or_create(
        project=project,
        name="Constant Contact sandbox",
        defaults={
            "connector_key": "constant_contact",
            "config": {
                "client_id": DEMO_CLIENT_ID,
                "auth_method": "oauth",
                "api_base_url": f"{sandbox_url}/v3",
                "authorize_url": f"{sandbox_url}/oauth2/default/v1/authorize",
                "token_url": f"{sandbox_url}/oauth2/default/v1/token",
            },
            "secrets_encrypted": encrypt_json({"client_secret": DEMO_CLIENT_SECRET}),
        },
    )
    files, _ = Connection.objects.get_or_create(
        project=project, name="Exports", defaults={"connector_key": "files"}
    )
    query = _activity(contact_center, "query", "All contacts")
    create = _activity(contact_center, "create", "Create contacts")
    write = _activity(files, "write", "Contacts CSV", file_name="contacts-{date}-{run_id}.csv")
    sample = _activity(files, "inline", "Sample contacts", data=SAMPLE_CONTACTS)
    _operation(
        project,
        "Export contacts to CSV",
        query,
        write,
        [
            {"target": "email", "kind": "path", "value": "email_address.address"},
            {"target": "first_name", "kind": "path", "value": "first_name"},
            {"target": "last_name", "kind": "path", "value": "last_name"},
            {"target": "updated_at", "kind": "path", "value": "updated_at"},
        ],
        y=40,
    )
    _operation(
        project,
        "Create sample contacts",
        sample,
        create,
        [
            {"target": "email_address.address", "kind": "path", "value": "email"},
            {"target": "first_name", "kind": "path", "value": "first_name"},
            {"target": "last_name", "kind": "path", "value": "last_name"},
        ],
        y=40 + ROW_HEIGHT,
    )
    return project
