"""Test in the activity wizard (issue 14): the lists, tags and segments an activity's settings
name are looked up in the connected account through the connector contract
(``Connector.test_activity``); an unknown id is a clear error at Test, naming the field, and a
[variable] is said to be checked at run time, not failed."""

from __future__ import annotations

from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse

from connectors.constant_contact.connector import ConstantContactConnector
from connectors.constant_contact.sandbox import Sandbox
from designer.design.models import Activity
from tests.fixtures.sandbox import cc_connection

MISSING = "0b0b0b0b-1409-443b-9a2b-eef234d6ec4a"


def test_known_ids_pass_and_unknown_ones_are_named(connection, cc_sandbox: Sandbox) -> None:
    connector = ConstantContactConnector()
    newsletter = cc_sandbox.list_id("Newsletter")
    check = connector.test_activity(
        connection, "query", {"lists": [newsletter], "tags": [cc_sandbox.tag_id("VIP")]}
    )
    assert check.ok, check.errors
    assert check.found == ("List IDs: 1 found in the account.", "Tag IDs: 1 found in the account.")

    check = connector.test_activity(
        connection, "lists_add_contacts", {"list_ids": [newsletter, MISSING, "Customers"]}
    )
    assert not check.ok
    message = check.errors["list_ids"]
    assert f"List id '{MISSING}' does not exist in this account" in message
    customers = cc_sandbox.list_id("Customers")
    named = f"('Customers' is a name: its id is {customers})"
    assert f"List id 'Customers' does not exist in this account {named}" in message
    assert message.startswith("Lists: ")

    check = connector.test_activity(connection, "query", {"segment_id": "999"})
    assert check.errors == {
        "segment_id": "Segment ID: Segment id '999' does not exist in this account."
    }


def test_variables_are_noted_not_failed(connection, cc_sandbox: Sandbox) -> None:
    check = ConstantContactConnector().test_activity(
        connection, "tags_add_contacts", {"tag_ids": ["[my_tags]", cc_sandbox.tag_id("Lead")]}
    )
    assert check.ok
    assert check.notes == (
        "Tags: [my_tags] can't be checked before the run (a variable); it is checked when the "
        "operation runs.",
    )
    assert check.found == ("Tags: 1 found in the account.",)


def test_one_read_per_kind_and_none_without_picker_values(connection, cc_sandbox) -> None:
    connector = ConstantContactConnector()
    ids = [cc_sandbox.list_id("Newsletter"), cc_sandbox.list_id("Events")]
    assert connector.test_activity(connection, "query", {"lists": ids}).ok
    reads = [r for r in cc_sandbox.api_requests() if r.path.endswith("/contact_lists")]
    assert len(reads) == 1
    before = len(cc_sandbox.api_requests())
    check = connector.test_activity(connection, "query", {"status": ["active"]})
    assert check.ok and check.found == () and len(cc_sandbox.api_requests()) == before


# ------------------------------------------------------------------------ in the wizard


@pytest.fixture
def db_connection(project, cc_sandbox: Sandbox, cc_tokens):
    cache.clear()
    return cc_connection(project, cc_sandbox, cc_tokens)


def post_test(client, url: str, **fields) -> tuple[int, str]:
    response = client.post(url, {**fields, "action": "test"}, HTTP_HX_REQUEST="true")
    return response.status_code, unescape(response.content.decode())


@pytest.mark.django_db
def test_the_wizard_tests_the_settings_against_the_account(
    client_for, project, db_connection, cc_sandbox: Sandbox
) -> None:
    client = client_for("editor")
    url = reverse("design:activity_new", args=[project.pk, db_connection.pk, "lists_add_contacts"])
    assert 'name="action" value="test"' in unescape(client.get(url).content.decode())

    status, html = post_test(client, url, name="Add", list_ids=f"{MISSING}, [lists]")
    assert status == 422
    assert f"List id '{MISSING}' does not exist in this account" in html
    assert "[lists] can't be checked before the run" in html
    assert "Step 1: name and settings" in html and not Activity.objects.exists()

    status, html = post_test(client, url, name="Add", list_ids=cc_sandbox.list_id("Events"))
    assert status == 200, html[:2000]
    assert "Lists: 1 found in the account." in html
    assert "does not exist" not in html and not Activity.objects.exists()


@pytest.mark.django_db
def test_an_account_that_cannot_be_read_says_why(client_for, project, cc_sandbox) -> None:
    unauthorised = cc_connection(project, cc_sandbox)  # no tokens
    url = reverse("design:activity_new", args=[project.pk, unauthorised.pk, "lists_add_contacts"])
    status, html = post_test(
        client_for("editor"), url, name="Add", list_ids=cc_sandbox.list_id("Events")
    )
    assert status == 422
    assert "Could not test against the account: " in html


@pytest.mark.django_db
def test_the_mapping_editor_offers_custom_fields_for_contact_targets(
    client_for, project, db_connection
) -> None:
    from tests.factories import ActivityFactory, OperationFactory, TransformationFactory

    shapes = {
        ("create", "flat"): ("custom_field_names", "custom_field:{value}"),
        ("update", "contract"): ("custom_fields", "custom_fields[custom_field_id={value}].value"),
        ("create", "bulk"): ("custom_field_names", "cf:{value}"),
    }
    for (key, shape), (kind, path) in shapes.items():
        config = {"mode": "bulk"} if shape == "bulk" else {"record_shape": shape}
        target = ActivityFactory(connection=db_connection, activity_type=key, config=config)
        transformation = TransformationFactory(project=project)
        OperationFactory(project=project, target=target, transformation=transformation)
        url = reverse("transformations:edit", args=[project.pk, transformation.pk])
        html = unescape(client_for("editor").get(url).content.decode())
        picker = reverse("design:picker", args=[project.pk, db_connection.pk, kind])
        assert f'hx-get="{picker}?field=target-pick-1"' in html
        assert f'data-path-template="{path}"' in html
        assert "Refresh custom fields" in html
        viewer = unescape(client_for("viewer").get(url).content.decode())
        assert "target-picker" not in viewer  # read only: nothing to pick


def test_a_mappings_custom_field_targets_are_looked_up(connection, cc_sandbox) -> None:
    color = next(f for f in cc_sandbox.custom_fields if f["label"] == "Favorite Color")
    targets = [
        "email",
        "custom_field:Favorite_Color",
        "custom_field:member since",  # a label, any case: resolved at run time too
        f"custom_field:{color['custom_field_id']}",
        "custom_field:Shoe size",
        "custom_field:[size_field]",
    ]
    connector = ConstantContactConnector()
    flat = {"record_shape": "flat"}
    assert connector.test_targets(connection, "create", flat, targets) == {
        "custom_field:Shoe size": "Custom field 'Shoe size' does not exist in this account."
    }
    by_id = [f"custom_fields[custom_field_id={MISSING}].value"]
    assert connector.test_targets(connection, "update", {}, by_id) == {
        by_id[0]: f"Custom field '{MISSING}' does not exist in this account."
    }
    reads = [r for r in cc_sandbox.api_requests() if r.path.endswith("/contact_custom_fields")]
    assert len(reads) == 2  # one per Test


@pytest.mark.django_db
def test_the_mapping_preview_names_custom_fields_the_account_lacks(
    client_for, project, db_connection, settings, tmp_path
) -> None:
    import json

    from tests.factories import (
        ActivityFactory,
        ConnectionFactory,
        OperationFactory,
        TransformationFactory,
    )

    settings.FILES_ROOT = tmp_path / "files"
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    source = ActivityFactory(
        connection=files, activity_type="inline", config={"data": "Email\nann@example.com\n"}
    )
    target = ActivityFactory(
        connection=db_connection, activity_type="create", config={"record_shape": "flat"}
    )
    transformation = TransformationFactory(project=project)
    OperationFactory(project=project, source=source, target=target, transformation=transformation)
    url = reverse("transformations:preview", args=[project.pk, transformation.pk])
    rules = [
        {"target": "email", "kind": "path", "value": "Email"},
        {"target": "custom_field:Favorite_Color", "kind": "constant", "value": "teal"},
        {"target": "custom_field:Shoe size", "kind": "constant", "value": "44"},
    ]
    response = client_for("editor").post(
        url, json.dumps({"rules": rules}), content_type="application/json"
    )
    html = unescape(response.content.decode())
    assert response.status_code == 200, html[:1000]
    assert (
        "“custom_field:Shoe size”: Custom field 'Shoe size' does not exist in this account." in html
    )
    assert "Favorite_Color”:" not in html
