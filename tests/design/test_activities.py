"""The activity wizard: step 1 settings, step 2 schemas; nothing saved until Finished."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from designer.design.models import Activity
from tests.factories import ActivityFactory, ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(project, fake_connector):
    return ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")


def post(client, url, **data):
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    return response, unescape(response.content.decode())


def test_steps_next_back_finished(client_for, project, connection):
    client = client_for("editor")
    url = reverse("design:activity_new", args=[project.pk, connection.pk, "query"])
    html = unescape(client.get(url).content.decode())
    assert "Step 1" in html and "Limit" in html and 'value="Query"' in html

    response, html = post(client, url, name="Recent", limit="50", fields="a, b", action="next")
    assert response.status_code == 200
    assert "Step 2: review the data schemas" in html
    assert "email_address" in html and "The contact's email" in html and "max 50 chars" in html
    assert 'title="Required">*' in html
    assert not Activity.objects.exists()  # nothing saved yet

    response, html = post(client, url, name="Recent", limit="50", fields="a, b", action="back")
    assert 'aria-current="step" class="current">1.' in html and 'value="Recent"' in html
    assert 'value="a, b"' in html

    response, html = post(client, url, name="Recent", limit="50", fields="a, b", action="finish")
    assert "close-dialog" in response["HX-Trigger-After-Settle"]  # after the re-targeted swap
    activity = Activity.objects.get()
    assert activity.name == "Recent"
    assert activity.config == {"limit": 50, "fields": ["a", "b"], "since": None}


def test_step_one_errors_stay_on_step_one(client_for, project, connection):
    client = client_for("editor")
    url = reverse("design:activity_new", args=[project.pk, connection.pk, "create"])
    response, html = post(client, url, name="Add", list_ids=["news", "cust"], action="next")
    assert response.status_code == 422
    assert "Customers can't be combined with other lists." in html
    response, html = post(client, url, name="Add", action="next")
    assert "This field is required." in html
    assert not Activity.objects.exists()


def test_editing_keeps_the_type_and_checks_the_version(client_for, personas, project, connection):
    activity = ActivityFactory(
        connection=connection, activity_type="query", name="Q", config={"limit": 5}
    )
    url = reverse("design:activity_edit", args=[project.pk, activity.pk])
    html = unescape(
        client_for("viewer")
        .get(reverse("design:activity", args=[project.pk, activity.pk]))
        .content.decode()
    )
    assert 'value="5"' in html and "Finished" not in html and "Next" not in html
    client = client_for("editor")
    post(client, url, name="Q2", limit="7", version=activity.version, action="finish")
    activity.refresh_from_db()
    assert activity.name == "Q2" and activity.config["limit"] == 7
    _, html = post(client, url, name="Q3", limit="8", version=activity.version - 1, action="finish")
    assert "Changed by editor at" in html
    activity.refresh_from_db()
    assert activity.name == "Q2"


def test_activity_names_are_unique_per_endpoint(client_for, project, connection):
    ActivityFactory(connection=connection, activity_type="query", name="Query")
    url = reverse("design:activity_new", args=[project.pk, connection.pk, "query"])
    _, html = post(client_for("editor"), url, name="Query", limit="1", action="finish")
    assert "already has an activity named “Query”" in html
    assert Activity.objects.count() == 1
