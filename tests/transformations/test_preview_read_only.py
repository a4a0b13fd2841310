"""The mapping editor's Preview reads its source as the step preview does: read-only at the far
side (a Constant Contact export is never started), with project variables resolved."""

from __future__ import annotations

import pytest

from designer.projects.models import Variable
from tests.factories import ActivityFactory, OperationFactory, TransformationFactory
from tests.fixtures.sandbox import cc_connection
from tests.transformations.test_views import post_json, url

pytestmark = pytest.mark.django_db


def test_previewing_a_mapping_never_starts_a_constant_contact_export(
    client_for, project, cc_allowed, cc_tokens
):
    """A Query in export mode starts an export (POST /activities/contact_exports) when read:
    the Preview must refuse that call before it leaves, and say why."""
    sandbox = cc_allowed
    sandbox.seed_contacts(3)
    connection = cc_connection(project, sandbox, cc_tokens)
    query = ActivityFactory(
        connection=connection, activity_type="query", name="Export", config={"mode": "export"}
    )
    transformation = TransformationFactory(project=project, name="Contacts out")
    operation = OperationFactory(project=project, source=query, transformation=transformation)

    rules = [{"target": "email", "kind": "path", "value": "email_address.address"}]
    response = post_json(client_for("editor"), url(operation, "preview"), {"rules": rules})

    assert response.status_code == 200
    assert not [r for r in sandbox.requests if r.method != "GET"]
    assert "not read-only (POST)" in response.content.decode()


def test_previewing_a_mapping_resolves_the_sources_project_variables(
    client_for, operation, project
):
    """A run (and the step preview) replace ``[name]`` in the activity's fields; the mapping
    preview reads the same records."""
    Variable.objects.create(project=project, name="people", value="Email\nann@example.com\n")
    source = operation.source
    source.config = {"data": "[people]"}
    source.save()

    rules = [{"target": "email_address.address", "kind": "path", "value": "Email"}]
    response = post_json(client_for("editor"), url(operation, "preview"), {"rules": rules})

    html = response.content.decode()
    assert "ann@example.com" in html
    assert "[people]" not in html
