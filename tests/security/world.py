"""A project filled with one of everything, secrets planted in every place a secret can live.

Used by the URL sweeps (real ids for every ``<int:...>`` of every project URL) and by the
secret scan (the planted values must never come back out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from designer.api.tokens import token_create
from designer.api.triggers import trigger_save
from designer.audit.models import AuditEntry
from designer.projects import services as project_services
from designer.projects.models import Membership, Project, Role
from designer.runs.models import (
    DebugSample,
    OperationRun,
    RecordFailure,
    RunLogLine,
    RunStatus,
    Schedule,
)
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    MembershipFactory,
    OperationFactory,
    TransformationFactory,
    UserFactory,
)
from tests.fixtures.sandbox import cc_connection
from tests.fixtures.urls import walk

# Distinctive values: any of them showing up outside encrypted columns is a leak.
SECRETS = {
    "client_secret": "PLANTED-client-secret-7f3a9c",
    "access_token": "PLANTED-access-token-51be02",
    "refresh_token": "PLANTED-refresh-token-c4d8e1",
    "variable": "PLANTED-secret-variable-9e6d20",
}


@dataclass
class World:
    project: Project
    ids: dict[str, int]
    strings: dict[str, str] = field(default_factory=dict)

    def url(self, route: str, *, project_id: int | None = None) -> str:
        """The route with this world's ids (``project_id`` may point elsewhere)."""
        path = route.replace("<int:project_id>", str(project_id or self.project.pk))

        def fill(match: re.Match) -> str:
            converter, name = match.group(1), match.group(2)
            if converter == "int":
                if name == "connection_id" and route.startswith("projects/<int:project_id>/files/"):
                    return str(self.ids["files_connection_id"])
                if name == "component_id":
                    return str(self.ids["activity_id"])
                return str(self.ids[name])
            return self.strings.get(name, "x")

        return "/" + re.sub(r"<(\w+):(\w+)>", fill, path)


def build_world(*, admin, name: str = "World", sandbox_url: str = "http://127.0.0.1:9") -> World:
    project = Project.objects.create(name=name)
    if not Membership.objects.filter(project=project, user=admin).exists():
        MembershipFactory(project=project, user=admin, role=Role.ADMIN)
    extra = MembershipFactory(project=project, user=UserFactory(), role=Role.VIEWER)
    cc = cc_connection(
        project,
        sandbox_url,
        {
            "access_token": SECRETS["access_token"],
            "refresh_token": SECRETS["refresh_token"],
            "expires_in": 3600,
        },
        client_secret=SECRETS["client_secret"],
    )
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    query = ActivityFactory(connection=cc, activity_type="query", name="Query", config={})
    create = ActivityFactory(
        connection=cc,
        activity_type="create",
        name="Create",
        config={"mode": "single", "create_source": "Account", "on_duplicate": "fail"},
    )
    transformation = TransformationFactory(
        project=project,
        mapping=[{"target": "email_address.address", "kind": "path", "value": "email_address"}],
    )
    operation = OperationFactory(
        project=project, source=query, target=create, transformation=transformation
    )
    run = OperationRun.objects.create(
        project=project,
        operation=operation,
        status=RunStatus.WARNING,
        trigger="manual",
        queue=project.agent_group,
        started_at=timezone.now(),
        ended_at=timezone.now(),
        source_records=2,
        target_records=1,
        failed_records=1,
        debug=True,
        message="Finished with failed records: 2 source records, 1 written, 1 failed.",
    )
    RunLogLine.objects.create(run=run, level="info", message="Started.")
    RecordFailure.objects.create(
        run=run,
        index=1,
        key="bad@example.com",
        error_key="validation",
        error_message="email_address.address: not an email",
        record={"email_address": "bad@example.com"},
    )
    DebugSample.objects.create(
        run=run,
        method="GET",
        url=sandbox_url + "/v3/contacts",
        status=200,
        duration_ms=3.0,
        attempt=1,
        request_body=None,
        response_body={"contacts": []},
        error="",
    )
    variable = project_services.variable_create(
        project=project, name="api_password", value=SECRETS["variable"], is_secret=True, actor=admin
    )
    schedule = Schedule.objects.create(project=project, operation=operation, created_by=admin)
    api_token, _raw_token = token_create(user=admin, name="CI", scopes=["read", "run"])
    trigger_save(operation=operation, mode="hmac", user=admin)
    entry = AuditEntry.objects.filter(project=project).first() or AuditEntry.objects.create(
        project=project, project_name=project.name, action="update"
    )
    # A pending project invitation (designer.accounts), for its withdraw route.
    from designer.accounts.services import invitation_create
    from designer.console.models import AgentGroup

    invitation = invitation_create(
        email=f"pending-{project.pk}@example.org", actor=admin, project=project, role=Role.VIEWER
    )
    grant = invitation.grants.get(project=project)
    group = AgentGroup.objects.create(name=f"group-{project.pk}")
    from designer.runs.models import Agent

    agent = Agent.objects.create(name=f"agent-{project.pk}@host", queues=[project.agent_group])
    return World(
        project=project,
        ids={
            "grant_id": grant.pk,
            # Console routes (staff): an invitation, a user, an agent group, a project.
            "invitation_id": invitation.pk,
            "user_id": extra.user_id,
            "group_id": group.pk,
            "agent_id": agent.pk,
            "pk": project.pk,
            "membership_id": extra.pk,
            "variable_id": variable.pk,
            "connection_id": cc.pk,
            "files_connection_id": files.pk,
            "activity_id": query.pk,
            "operation_id": operation.pk,
            "workflow_id": operation.workflow_id,
            "step_id": operation.steps.order_by("position").values_list("pk", flat=True)[0],
            "transformation_id": transformation.pk,
            "run_id": run.pk,
            "schedule_id": schedule.pk,
            "entry_id": entry.pk,
            "token_id": api_token.pk,
        },
        strings={
            "pane": "canvas",
            "connector_key": "constant_contact",
            "activity_type": "query",
            "kind": "activity",
            "action": "rename",
            "slot": "source",
            "name": "contacts.csv",
            "fmt": "csv",
            "direction": "right",
        },
    )


def project_routes() -> list[tuple[str, Any]]:
    # The token API (api/v1/) answers sessions with 401: tests/api sweeps it with tokens.
    return [
        (route, p)
        for route, p in walk()
        if "<int:project_id>" in route and not route.startswith("api/v1/")
    ]


def project_pages(client: Any, world: World) -> dict[str, str]:
    """URL -> text of every project page that answers ``client`` 200 with the world's ids (the
    pages a secret scan reads); GETs that would change something (delete, OAuth) are skipped."""
    pages: dict[str, str] = {}
    for route, _pattern in project_routes():
        if route.endswith(("/delete/", "/remove/", "/oauth/start/", "/oauth/callback/")):
            continue
        url = world.url(route)
        response = client.get(url)
        if response.status_code == 200:
            body = b"".join(response) if response.streaming else response.content
            pages[url] = body.decode("utf-8", "replace")
    return pages
