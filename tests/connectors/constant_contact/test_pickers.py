"""Pickers (issue 14): list, tag and segment fields of the activity forms offer the
connected account's objects, searched on the server, cached per connection for a few
minutes, refreshed on demand; typed ids still work."""

from __future__ import annotations

from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse

from connectors.constant_contact.sandbox import Sandbox
from tests.fixtures.sandbox import cc_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(project, cc_sandbox: Sandbox, cc_tokens):
    cache.clear()
    return cc_connection(project, cc_sandbox, cc_tokens)


def list_reads(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.api_requests() if r.path.endswith("/contact_lists"))


def get(client, url: str, **params) -> str:
    response = client.get(url, params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content[:500]
    return unescape(response.content.decode())


def test_the_wizard_ties_list_fields_to_the_lists_picker(client_for, project, connection) -> None:
    client = client_for("editor")
    url = reverse("design:activity_new", args=[project.pk, connection.pk, "lists_add_contacts"])
    html = get(client, url)
    picker = reverse("design:picker", args=[project.pk, connection.pk, "lists"])
    assert f'hx-get="{picker}?field=list_ids"' in html
    assert 'list="id_list_ids-options"' in html and '<datalist id="id_list_ids-options">' in html
    assert "Refresh lists" in html
    query = reverse("design:activity_new", args=[project.pk, connection.pk, "query"])
    html = get(client, query)
    for kind, field in (("lists", "lists"), ("tags", "tags"), ("segments", "segment_id")):
        url = reverse("design:picker", args=[project.pk, connection.pk, kind])
        assert f'hx-get="{url}?field={field}"' in html


def test_options_come_from_the_account_cached_searched_and_refreshed(
    client_for, project, connection, cc_sandbox: Sandbox
) -> None:
    client = client_for("editor")
    url = reverse("design:picker", args=[project.pk, connection.pk, "lists"])
    html = get(client, url, field="list_ids")
    for name in ("Newsletter", "Customers", "Prospects", "Events"):
        assert f'value="{cc_sandbox.list_id(name)}" label="{name}"' in html
    assert list_reads(cc_sandbox) == 1

    cc_sandbox.service.catalog.add_list("Spring sale")
    searched = get(client, url, field="list_ids", list_ids="abc, spr")  # the last item
    assert searched.count("<option") == 0  # cached: the new list is not seen yet
    assert list_reads(cc_sandbox) == 1
    refreshed = get(client, url, field="list_ids", list_ids="spr", refresh="1")
    assert refreshed.count("<option") == 1 and 'label="Spring sale"' in refreshed
    assert list_reads(cc_sandbox) == 2


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("tags", "VIP"),
        ("custom_fields", "Favorite Color (Favorite_Color)"),
        ("segments", "Members of Newsletter"),
    ],
)
def test_tags_custom_fields_and_segments(
    client_for, project, connection, kind: str, label: str
) -> None:
    url = reverse("design:picker", args=[project.pk, connection.pk, kind])
    assert f'label="{label}"' in get(client_for("editor"), url)


def test_a_connection_that_cannot_read_says_why(client_for, project, cc_sandbox: Sandbox) -> None:
    cache.clear()
    unauthorised = cc_connection(project, cc_sandbox)  # no tokens
    url = reverse("design:picker", args=[project.pk, unauthorised.pk, "lists"])
    html = get(client_for("editor"), url)
    assert 'label="Could not load the lists: ' in html


def test_an_unknown_picker_is_a_clear_message(client_for, project, connection) -> None:
    url = reverse("design:picker", args=[project.pk, connection.pk, "planets"])
    assert "has no picker for 'planets'" in get(client_for("editor"), url)


def test_custom_fields_by_name_for_the_mapping_editor(client_for, project, connection) -> None:
    """The mapping editor's custom-field picker offers names (flat and bulk columns address
    custom fields by name); the contract's shape picks them by id."""
    url = reverse("design:picker", args=[project.pk, connection.pk, "custom_field_names"])
    html = get(client_for("editor"), url, field="target-pick-1", **{"target-pick-1": "favo"})
    option = '<option value="Favorite_Color" label="Favorite Color (Favorite_Color)"></option>'
    assert html.strip() == option
