"""The mapping editor of a transformation placed as a step maps between the steps around it:
after a source, the source's records; after a target, the target's response (each record's
result: the record sent, id, action, error); before a target, what that target takes."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from designer.design.step_services import step_add
from designer.transformations.selectors import editor_data
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_steps(project, personas, fake_connector):
    """Query -> mapping -> Create -> response mapping -> Update (the fake CRM)."""
    crm = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    query = ActivityFactory(connection=crm, activity_type="query", name="All contacts")
    create = ActivityFactory(connection=crm, activity_type="create", name="Add contact")
    update = ActivityFactory(connection=crm, activity_type="update", name="Change contact")
    operation = OperationFactory(project=project, name="Sync")
    user = personas["editor"]
    made = {}
    for key, values in (
        ("source", {"activity": query}),
        ("mapping", {"tool": "transformation"}),
        ("create", {"activity": create}),
        ("response", {"tool": "transformation"}),
        ("update", {"activity": update}),
    ):
        made[key] = step_add(project=project, user=user, operation=operation, **values)
    return made


def paths(side) -> set[str]:
    return {f.path for f in side.fields}


def test_the_first_mapping_is_between_the_source_and_the_first_target(five_steps):
    data = editor_data(five_steps["mapping"].transformation)
    assert data.operation == five_steps["source"].operation
    assert data.source.activity.name == "All contacts"
    assert data.target.activity.name == "Add contact"
    assert "email_address.address" in paths(data.source)
    assert "email" in paths(data.target)  # what the fake Create takes


def test_the_response_mapping_reads_the_targets_results(five_steps, client_for, project):
    data = editor_data(five_steps["response"].transformation)
    assert data.source.activity.name == "Add contact"
    assert {"id", "action", "ok", "error_key", "error_message"} <= paths(data.source)
    # The record that was sent, as the target took it.
    assert "record.email" in paths(data.source)
    assert "response" in data.source.note
    assert data.target.activity.name == "Change contact"
    page = client_for("editor").get(
        reverse("transformations:edit", args=[project.pk, five_steps["response"].transformation_id])
    )
    html = unescape(page.content.decode())
    assert 'data-path="record.email"' in html and 'data-path="id"' in html
    assert "Operation <strong>Sync</strong>: CRM · Add contact → CRM · Change contact" in html


def test_a_mapping_with_nothing_after_it_says_so(project, personas, fake_connector):
    crm = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    query = ActivityFactory(connection=crm, activity_type="query", name="All contacts")
    operation = OperationFactory(project=project, name="Sync")
    user = personas["editor"]
    step_add(project=project, user=user, operation=operation, activity=query)
    mapping = step_add(project=project, user=user, operation=operation, tool="transformation")
    data = editor_data(mapping.transformation)
    assert data.source.activity == query
    assert data.target.activity is None
    assert "no target after this transformation" in data.target.note


def test_the_response_mapping_preview_never_reads_from_the_target(five_steps, client_for, project):
    url = reverse(
        "transformations:preview", args=[project.pk, five_steps["response"].transformation_id]
    )
    response = client_for("editor").post(url, "{}", content_type="application/json")
    assert "works on a target's response, which only a run produces" in unescape(
        response.content.decode()
    )
