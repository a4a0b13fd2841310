"""The connector's surface: registry, fields, activity types, schemas from the contract."""

from __future__ import annotations

import jsonschema
import pytest
import requests

from connectors.base import FieldKind, Role
from connectors.constant_contact.contract import load_contract
from connectors.constant_contact.sandbox import Sandbox
from connectors.constant_contact.schemas import (
    bulk_import_row_schema,
    contact_resource_schema,
    create_contact_schema,
    sign_up_form_schema,
    update_contact_schema,
)
from connectors.registry import all_connectors, get_connector
from tests.connectors.constant_contact.conftest import contract_problems


def test_registered_with_its_activities() -> None:
    connector = get_connector("constant_contact")
    assert connector.name == "Constant Contact" and connector.supports_oauth
    assert connector in all_connectors()
    sources = {
        "query",
        "lists_query",
        "tags_query",
        "custom_fields_query",
        "segments_query",
        "reports_campaign_summaries",
        "reports_contact_activity",
        "reports_campaign_tracking",
    }
    targets = {
        "reports_contact_activity_lookup",
        "create",
        "update",
        "delete",
        "lists_add_contacts",
        "lists_remove_contacts",
        "tags_add_contacts",
        "tags_remove_contacts",
        "lists_create",
        "lists_update",
        "lists_delete",
        "tags_create",
        "tags_rename",
        "tags_delete",
        "custom_fields_create",
        "custom_fields_delete",
    }
    assert {k: a.role for k, a in connector.activity_types.items()} == {
        **dict.fromkeys(sources, Role.SOURCE),
        **dict.fromkeys(targets, Role.TARGET),
    }
    fields = {f.name: f for f in connector.connection_fields}
    assert connector.secret_field_names == {"client_secret", "access_token", "refresh_token"}
    # Required for OAuth only (a pasted token works alone): checked by validate_connection.
    assert not fields["client_id"].required
    assert connector.validate_connection({"auth_method": "oauth"}).keys() == {"client_id"}
    assert connector.validate_connection({"auth_method": "token"}) == {}
    assert connector.oauth_applies({"auth_method": "oauth"})
    assert connector.oauth_applies({})  # the default is OAuth
    assert not connector.oauth_applies({"auth_method": "token"})
    assert dict(fields["auth_method"].choices).keys() == {"oauth", "token"}
    assert all(
        fields[n].advanced and fields[n].kind is FieldKind.URL
        for n in ("api_base_url", "authorize_url", "token_url")
    )
    assert fields["api_base_url"].default == "https://api.cc.email/v3"
    assert fields["token_url"].default.endswith("/oauth2/default/v1/token")


def test_every_activity_has_usable_schemas_and_fields() -> None:
    connector = get_connector("constant_contact")
    for activity in connector.activity_types.values():
        defaults = {f.name: f.default for f in activity.config_fields if f.default is not None}
        if activity.key == "create":
            defaults["list_ids"] = []
        for schema in (activity.request_schema(defaults), activity.response_schema(defaults)):
            if schema is not None:
                jsonschema.Draft4Validator.check_schema(schema)
                assert schema["title"] and schema["properties"]
        assert len({f.name for f in activity.config_fields}) == len(activity.config_fields)
        assert activity.batch_size(defaults) >= 1


def _contract_property(definition: str, name: str) -> dict:
    return load_contract()["definitions"][definition]["properties"][name]


@pytest.mark.parametrize(
    ("schema", "definition", "name"),
    [
        (create_contact_schema, "ContactPostRequest", "first_name"),
        (create_contact_schema, "ContactPostRequest", "job_title"),
        (update_contact_schema, "ContactPutRequest", "company_name"),
        (sign_up_form_schema, "ContactCreateOrUpdateInput", "email_address"),
        (bulk_import_row_schema, "JsonImportContact", "home_street"),
        (contact_resource_schema, "ContactResource", "anniversary"),
    ],
)
def test_schemas_carry_the_contracts_words_and_limits(schema, definition, name) -> None:
    ours = schema()["properties"][name]
    theirs = _contract_property(definition, name)
    assert ours["maxLength"] == theirs["maxLength"]
    assert ours["description"] == theirs["description"]
    assert ours["title"]  # for the review tree and the mapping editor


def test_nested_shapes_are_inlined_and_request_shapes_drop_read_only() -> None:
    resource = contact_resource_schema()
    assert "$ref" not in str(resource)
    email = resource["properties"]["email_address"]
    assert email["properties"]["address"]["maxLength"] == 80
    assert "opt_in_date" in email["properties"]  # read-only, but a source yields it
    create = create_contact_schema()
    assert "create_source" not in create["properties"]  # comes from the configuration
    assert create["properties"]["phone_numbers"]["maxItems"] == 3
    update = update_contact_schema()
    assert "confirm_status" not in update["properties"]["email_address"]["properties"]
    assert "update_source" not in update["properties"]
    bulk = bulk_import_row_schema()
    assert "^cf:" in bulk["patternProperties"]
    assert "cf:custom_field_name" not in bulk["properties"]


def test_query_config_offers_every_contacts_filter() -> None:
    query = get_connector("constant_contact").activity_type("query")
    offered = {f.name for f in query.config_fields}
    operation = load_contract()["paths"]["/contacts"]["get"]
    filters = {p["name"] for p in operation["parameters"]} - {"limit", "include_count"}
    assert filters <= offered


def test_the_contract_check_catches_a_request_that_breaks_it(
    cc_sandbox: Sandbox, cc_tokens: dict
) -> None:
    # Guards the autouse check every test here ends with: it must be able to fail.
    requests.get(
        cc_sandbox.api_base_url + "/contacts",
        params={"limit": 501, "include": "everything"},
        headers={"Authorization": f"Bearer {cc_tokens['access_token']}"},
        timeout=5,
    )
    problems = contract_problems(cc_sandbox)
    assert any("limit" in p for p in problems) and any("include" in p for p in problems)
    cc_sandbox.reset()  # this test's own bad request is not the connector's
