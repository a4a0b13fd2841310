"""The issue-14 activities in the designer: each is offered for a Constant Contact connection
and goes through the two-step wizard (settings, then the schemas from the contract)."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from connectors.constant_contact.activities import CATALOG_ACTIVITIES
from designer.design.models import Activity
from designer.design.selectors import designer_data
from tests.fixtures.sandbox import cc_connection

pytestmark = pytest.mark.django_db

LIST_ID = "2b202b3e-1409-543b-9a2b-eef234d6ec4a"
STEP_ONE = {
    "lists_add_contacts": {"list_ids": LIST_ID},
    "lists_remove_contacts": {"list_ids": LIST_ID},
    "tags_add_contacts": {"tag_ids": LIST_ID},
    "tags_remove_contacts": {"tag_ids": LIST_ID},
    "reports_contact_activity": {"contact_ids": LIST_ID},
    "reports_campaign_tracking": {"campaign_activity_id": LIST_ID, "tracking": "clicks"},
}
# What step 2 must show: a property of the request (targets) or response (sources) schema.
SHOWN = {
    "lists_add_contacts": "contact_id",
    "lists_query": "membership_count",
    "lists_create": "favorite",
    "tags_rename": "tag_id",
    "custom_fields_create": "label",
    "segments_query": "segment_id",
    "reports_campaign_tracking": "link_url",  # the clicks list's schema
}


@pytest.fixture
def connection(project, cc_sandbox):
    return cc_connection(project, cc_sandbox)


def test_the_designer_offers_every_new_activity(project, connection) -> None:
    (endpoint,) = designer_data(project).endpoints
    offered = {group.type.key for group in endpoint.groups}
    assert {a.key for a in CATALOG_ACTIVITIES} <= offered


@pytest.mark.parametrize("kind", [a.key for a in CATALOG_ACTIVITIES])
def test_each_goes_through_the_wizard(client_for, project, connection, kind: str) -> None:
    client = client_for("editor")
    url = reverse("design:activity_new", args=[project.pk, connection.pk, kind])
    assert client.get(url).status_code == 200
    data = {"name": f"My {kind}", **STEP_ONE.get(kind, {})}
    response = client.post(url, {**data, "action": "next"}, HTTP_HX_REQUEST="true")
    html = unescape(response.content.decode())
    assert response.status_code == 200, html[:2000]
    assert "Step 2: review the data schemas" in html
    if kind in SHOWN:
        assert SHOWN[kind] in html
    response = client.post(url, {**data, "action": "finish"}, HTTP_HX_REQUEST="true")
    assert response.status_code in (200, 204), response.content[:2000]
    saved = Activity.objects.get(activity_type=kind)
    for key, value in STEP_ONE.get(kind, {}).items():
        assert saved.config[key] == ([value] if key.endswith("_ids") else value)


def test_a_membership_without_lists_stays_on_step_one(client_for, project, connection) -> None:
    client = client_for("editor")
    url = reverse("design:activity_new", args=[project.pk, connection.pk, "lists_add_contacts"])
    response = client.post(url, {"name": "Add", "action": "next"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert not Activity.objects.exists()
