"""The designer page and its panes: what each persona sees, and a fixed number of queries."""

from __future__ import annotations

from html import unescape

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from designer.design.models import Activity, Connection, Operation, Transformation
from designer.design.operations import plain_chain
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

pytestmark = pytest.mark.django_db


def make_components(project, total: int) -> None:
    """``total`` components: endpoints, activities, transformations and operations."""
    made = 0
    i = Connection.objects.filter(project=project).count()
    while made < total:
        connection = Connection.objects.create(
            project=project, connector_key="fake_crm", name=f"Endpoint {i}"
        )
        source = Activity.objects.create(
            project=project, connection=connection, activity_type="query", name=f"Query {i}"
        )
        target = Activity.objects.create(
            project=project, connection=connection, activity_type="create", name=f"Create {i}"
        )
        transformation = Transformation.objects.create(project=project, name=f"Map {i}")
        operation = Operation.objects.create(project=project, name=f"Operation {i}", position_y=i)
        plain_chain(operation, source=source, transformation=transformation, target=target)
        made += 5
        i += 1


def count_queries(client, url) -> int:
    with CaptureQueriesContext(db_connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url_name", ["designer", "pane:palette", "pane:canvas", "pane:components"])
def test_fixed_number_of_queries_with_5_and_100_components(
    client_for, personas, project, fake_connector, url_name
):
    client = client_for("editor")
    name, _, pane = url_name.partition(":")
    args = [project.pk, pane] if pane else [project.pk]
    url = reverse(f"design:{name}", args=args)
    make_components(project, 5)
    small = count_queries(client, url)
    make_components(project, 100 - 5)
    assert Operation.objects.filter(project=project).count() == 20
    large = count_queries(client, url)
    assert small == large
    # session, user, membership, connections, activities, workflows, operations, the board's
    # steps, transformations, last runs, schedules, the undo and redo labels (+1 on the full
    # page: the top bar's Console link check)
    assert large <= (13 if not pane else 12)


def test_editor_sees_the_tools_to_design(client_for, project, fake_connector):
    connection = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    activity = ActivityFactory(connection=connection, activity_type="query", name="All contacts")
    OperationFactory(project=project, name="Sync", source=activity)
    html = unescape(
        client_for("editor").get(reverse("design:designer", args=[project.pk])).content.decode()
    )
    # Palette: the endpoint, its four activity types, the activity made from Query, the connector
    for text in ("CRM", ">Query<", ">Create<", ">Update<", ">Delete<", "All contacts", "Fake CRM"):
        assert text in html
    assert 'data-drag="activity"' in html and 'data-drag="type"' in html
    assert "Add to operation…" in html
    assert "Global endpoints" in html
    # Canvas: source, transformation, target left to right, with the last run status
    assert 'aria-label="Operation Sync"' in html
    assert html.index("step kind-source") < html.index("step-gap-end")
    assert "Not run yet" in html
    # Components pane
    assert 'aria-label="Actions for operation Sync"' in html


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_viewers_and_operators_see_but_cannot_drag_or_edit(
    client_for, project, fake_connector, persona
):
    connection = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    ActivityFactory(connection=connection, activity_type="query", name="All contacts")
    html = client_for(persona).get(reverse("design:designer", args=[project.pk])).content.decode()
    assert "All contacts" in html
    assert "draggable" not in html
    assert "Add to operation" not in html
    assert "New operation" not in html


def test_an_unknown_pane_is_404(client_for, project):
    assert (
        client_for("viewer").get(reverse("design:pane", args=[project.pk, "x"])).status_code == 404
    )


def test_an_endpoint_whose_connector_is_missing_still_renders(client_for, project):
    ConnectionFactory(project=project, connector_key="gone", name="Old")
    html = client_for("viewer").get(reverse("design:designer", args=[project.pk])).content.decode()
    assert "Connector “gone” is not installed." in unescape(html)


def test_each_operation_shows_its_last_run_and_a_run_button(client_for, personas, project):
    from designer.runs.models import OperationRun

    first = OperationFactory(project=project, name="First")
    second = OperationFactory(project=project, name="Second")
    for status in ("error", "warning"):
        OperationRun.objects.create(
            project=project, operation=first, status=status, trigger="manual", queue="default"
        )
    html = client_for("operator").get(reverse("design:designer", args=[project.pk])).content
    html = unescape(html.decode())
    first_card = html[
        html.index('aria-label="Operation First"') : html.index('aria-label="Operation Second"')
    ]
    assert 'class="run-status status-warning"' in first_card
    assert "Success with Warning" in first_card
    assert reverse("runs:start", args=[project.pk, first.pk]) in first_card  # operators may run
    assert "Not run yet" in html[html.index('aria-label="Operation Second"') :]
    viewer = unescape(
        client_for("viewer").get(reverse("design:designer", args=[project.pk])).content.decode()
    )
    assert reverse("runs:start", args=[project.pk, second.pk]) not in viewer


def test_the_transformation_step_links_to_the_mapping_editor(client_for, project, fake_connector):
    from tests.factories import TransformationFactory

    mapping = TransformationFactory(project=project, name="Contact map")
    OperationFactory(project=project, name="Mapped", transformation=mapping)
    OperationFactory(project=project, name="Unmapped")
    html = unescape(
        client_for("editor").get(reverse("design:designer", args=[project.pk])).content.decode()
    )
    editor = reverse("transformations:edit", args=[project.pk, mapping.pk])
    assert f'href="{editor}"' in html
    assert "Step 1, Transformation: Contact map. Open its mapping" in html
    unmapped = html[html.index('aria-label="Operation Unmapped"') :]
    assert "Add a step at the end of Unmapped" in unmapped
