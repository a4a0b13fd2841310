"""Every answer of the sandbox's implemented operations matches the contract's response schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from connectors.constant_contact import contract
from connectors.constant_contact.sandbox import Sandbox
from tests.sandbox.helpers import Api

FULL_INCLUDE = "custom_fields,list_memberships,phone_numbers,street_addresses,taggings,notes"


def rich_contact(list_id: str, tag_id: str, field_id: str) -> dict[str, Any]:
    return {
        "email_address": {"address": "rich@example.com", "permission_to_send": "unsubscribed"},
        "first_name": "Rich",
        "create_source": "Account",
        "birthday_month": 3,
        "birthday_day": 14,
        "list_memberships": [list_id],
        "taggings": [tag_id],
        "custom_fields": [{"custom_field_id": field_id, "value": "blue"}],
        "phone_numbers": [{"phone_number": "555-0101", "kind": "mobile"}],
        "street_addresses": [{"kind": "work", "street": "1 Main St", "city": "Waltham"}],
        "notes": [{"content": "Met at the fair"}],
        "sms_channel": {
            "full_sms_address": "15555550100",
            "sms_channel_consents": [
                {"sms_consent_permission": "explicit", "consent_type": "promotional_sms"}
            ],
        },
    }


@pytest.fixture
def scenario(cc_sandbox: Sandbox, api: Api) -> list[tuple[str, str, Any]]:
    """Run a broad session; return (method, path, response) for each call."""
    cc_sandbox.configure(activity_polls=1)
    cc_sandbox.seed_contacts(40)
    newsletter = cc_sandbox.list_id("Newsletter")
    field_id = cc_sandbox.custom_fields[0]["custom_field_id"]
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/account/summary", {"params": {"extra_fields": "physical_address,company_logo"}}),
        (
            "GET",
            "/contacts",
            {"params": {"include": FULL_INCLUDE, "include_count": "true", "limit": 25}},
        ),
        (
            "POST",
            "/contacts",
            {"json": rich_contact(newsletter, cc_sandbox.tag_id("VIP"), field_id)},
        ),
        (
            "POST",
            "/contacts",
            {
                "json": {
                    "email_address": {"address": "contact1@example.com"},
                    "create_source": "Account",
                }
            },
        ),
        (
            "POST",
            "/contacts/sign_up_form",
            {
                "json": {
                    "email_address": "form@example.com",
                    "list_memberships": [newsletter],
                    "phone_number": "555",
                    "street_address": {"kind": "home", "city": "Boston"},
                }
            },
        ),
        (
            "GET",
            "/contact_lists",
            {"params": {"include_membership_count": "active", "include_count": "true", "limit": 2}},
        ),
        ("POST", "/contact_lists", {"json": {"name": "Conformance"}}),
        ("GET", "/contact_custom_fields", {}),
        ("POST", "/contact_custom_fields", {"json": {"label": "Tier", "type": "string"}}),
        ("GET", "/contact_tags", {"params": {"include_count": "true", "limit": 2}}),
        ("POST", "/contact_tags", {"json": {"name": "Conformance"}}),
        (
            "POST",
            "/activities/contacts_json_import",
            {
                "json": {
                    "import_data": [{"email": "bad"}, {"email": "ok@example.com"}],
                    "list_ids": [newsletter],
                }
            },
        ),
        (
            "POST",
            "/activities/contact_delete",
            {"json": {"contact_ids": [c["contact_id"] for c in cc_sandbox.contacts[:3]]}},
        ),
        ("GET", "/activities", {}),
        ("GET", "/contacts", {"params": {"limit": 0}}),
    ]
    results = []
    for method, path, kwargs in calls:
        results.append(
            (method, path, api.session.request(method, api.url(path), timeout=10, **kwargs))
        )
    rich_id = results[2][2].json()["contact_id"]
    for method, path, kwargs in [
        ("GET", f"/contacts/{rich_id}", {"params": {"include": FULL_INCLUDE}}),
        (
            "PUT",
            f"/contacts/{rich_id}",
            {
                "json": {
                    "email_address": {"address": "rich2@example.com"},
                    "update_source": "Contact",
                }
            },
        ),
        ("GET", "/contacts/00000000-0000-4000-8000-000000000000", {}),
    ]:
        results.append(
            (method, path, api.session.request(method, api.url(path), timeout=10, **kwargs))
        )
    for activity in results[13][2].json()["activities"]:
        path = f"/activities/{activity['activity_id']}"
        results.append(("GET", path, api.get(path)))
    return results


def test_every_response_matches_the_contract(scenario: list[tuple[str, str, Any]]) -> None:
    statuses = [response.status_code for _, _, response in scenario]
    assert statuses[:4] == [200, 200, 201, 409]
    assert 400 in statuses and 404 in statuses
    for method, path, response in scenario:
        body = response.json() if response.content else None
        problems = contract.validate_response(method, path, response.status_code, body)
        assert problems == [], (method, path, response.status_code, problems)


def test_error_bodies_use_the_api_error_schema(scenario: list[tuple[str, str, Any]]) -> None:
    validator = jsonschema.Draft4Validator(contract.definition_schema("APIErrorSchema"))
    errors = [response for _, _, response in scenario if response.status_code >= 400]
    assert errors
    for response in errors:
        body = response.json()
        assert list(validator.iter_errors(body)) == []
        assert body and all(item["error_key"] and item["error_message"] for item in body)
