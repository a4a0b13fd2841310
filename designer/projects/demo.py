"""The demo project `make run` sets up: a Constant Contact endpoint on the local sandbox."""

from __future__ import annotations

from django.db import transaction

from connectors.registry import CONNECTORS
from designer.crypto import encrypt_json
from designer.design.models import Connection
from designer.projects.models import Membership, Project, Role

DEMO_PROJECT = "Demo: Constant Contact sandbox"
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # the sandbox's demo app; not a real credential


@transaction.atomic
def demo_project_ensure(*, owner, sandbox_url: str) -> Project:
    project, _ = Project.objects.get_or_create(name=DEMO_PROJECT, defaults={"created_by": owner})
    Membership.objects.update_or_create(project=project, user=owner, defaults={"role": Role.ADMIN})
    if "constant_contact" in CONNECTORS:
        Connection.objects.get_or_create(
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
    return project
