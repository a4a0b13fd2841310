"""Every answer of the operations the sandbox gained for issue 14 (lists, tags, custom fields,
segments, memberships, exports, reports) matches the contract's response schema, activities
polled to their end included; and every operation the sandbox implements is exercised by a
conformance scenario."""

from __future__ import annotations

import re
from typing import Any

import pytest

from connectors.constant_contact import contract
from connectors.constant_contact.sandbox import Sandbox
from connectors.constant_contact.sandbox import api as sandbox_api
from connectors.constant_contact.sandbox.reports import campaigns
from tests.fixtures.sandbox import CC_CLIENT_ID
from tests.sandbox.helpers import Api

SCOPES = ("contact_data", "campaign_data", "account_read", "offline_access")
# Exercised by tests/sandbox/test_conformance.py's scenario.
EARLIER = {
    ("GET", "/account/summary"),
    ("GET", "/contacts"),
    ("POST", "/contacts"),
    ("GET", "/contacts/{contact_id}"),
    ("PUT", "/contacts/{contact_id}"),
    ("POST", "/contacts/sign_up_form"),
    ("GET", "/contact_lists"),
    ("POST", "/contact_lists"),
    ("GET", "/contact_lists/{list_id}"),
    ("GET", "/contact_custom_fields"),
    ("POST", "/contact_custom_fields"),
    ("GET", "/contact_tags"),
    ("POST", "/contact_tags"),
    ("POST", "/activities/contacts_json_import"),
    ("POST", "/activities/contact_delete"),
    ("GET", "/activities"),
    ("GET", "/activities/{activity_id}"),
}


@pytest.fixture
def scenario(cc_sandbox: Sandbox) -> list[tuple[str, str, Any]]:
    api = Api(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID, SCOPES)["access_token"])
    cc_sandbox.configure(activity_polls=1)
    cc_sandbox.seed_contacts(12)
    ids = [c["contact_id"] for c in cc_sandbox.contacts]
    events, prospects = cc_sandbox.list_id("Events"), cc_sandbox.list_id("Prospects")
    vip, lead = cc_sandbox.tag_id("VIP"), cc_sandbox.tag_id("Lead")
    fields = [f["custom_field_id"] for f in cc_sandbox.custom_fields]
    campaign = campaigns()[0]["campaign_activity_id"]
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", f"/contact_lists/{events}", {"json": {"name": "Events 2026"}}),
        ("DELETE", f"/contact_lists/{prospects}", {}),
        ("POST", "/activities/list_delete", {"json": {"list_ids": [events]}}),
        (
            "POST",
            "/activities/add_list_memberships",
            {
                "json": {
                    "source": {"contact_ids": ids[:5]},
                    "list_ids": [cc_sandbox.list_id("Newsletter")],
                }
            },
        ),
        (
            "POST",
            "/activities/remove_list_memberships",
            {
                "json": {
                    "source": {"contact_ids": ids[:2]},
                    "list_ids": [cc_sandbox.list_id("Newsletter")],
                }
            },
        ),
        (
            "POST",
            "/activities/contacts_taggings_add",
            {"json": {"source": {"contact_ids": ids}, "tag_ids": [vip]}},
        ),
        (
            "POST",
            "/activities/contacts_taggings_remove",
            {"json": {"source": {"contact_ids": ids}, "tag_ids": [vip]}},
        ),
        ("PUT", f"/contact_tags/{vip}", {"json": {"name": "Very important"}}),
        ("DELETE", f"/contact_tags/{vip}", {}),
        ("POST", "/activities/contacts_tags_delete", {"json": {"tag_ids": [lead]}}),
        ("PUT", f"/contact_custom_fields/{fields[0]}", {"json": {"label": "Colour"}}),
        ("DELETE", f"/contact_custom_fields/{fields[0]}", {}),
        ("POST", "/activities/custom_fields_delete", {"json": {"custom_field_ids": [fields[1]]}}),
        ("GET", "/segments", {"params": {"sort_by": "name"}}),
        ("DELETE", f"/contacts/{ids[-1]}", {}),
        ("POST", "/activities/contact_exports", {"json": {"status": "active"}}),
        ("GET", "/reports/summary_reports/email_campaign_summaries", {"params": {"limit": "1"}}),
        ("GET", f"/reports/contact_reports/{ids[3]}/activity_details", {}),
        *(
            ("GET", f"/reports/email_reports/{campaign}/tracking/{which}", {})
            for which in ("opens", "clicks", "bounces", "optouts")
        ),
    ]
    results = []
    for method, path, kwargs in calls:
        results.append(
            (method, path, api.session.request(method, api.url(path), timeout=10, **kwargs))
        )
    activities = [
        r.json()["activity_id"]
        for _, p, r in results
        if "activity_id" in (r.json() if r.content else {})
    ]
    for activity_id in activities:
        for _ in range(3):
            path = f"/activities/{activity_id}"
            results.append(("GET", path, api.get(path)))
            cc_sandbox.clock.advance(1)
    exported = next(r for m, p, r in results if p == "/activities/contact_exports").json()
    final = api.get(f"/activities/{exported['activity_id']}").json()
    href = final["_links"]["results"]["href"]
    results.append(("GET", href.removeprefix("/v3"), api.get(href)))
    return results


def test_every_new_answer_matches_the_contract(scenario: list[tuple[str, str, Any]]) -> None:
    for method, path, response in scenario:
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        if "text/csv" in response.headers.get("Content-Type", ""):
            assert response.text.startswith("contact_id,")
            continue
        body = response.json() if response.content else None
        problems = contract.validate_response(method, path, response.status_code, body)
        assert problems == [], (method, path, problems)


def test_every_implemented_operation_is_exercised(scenario: list[tuple[str, str, Any]]) -> None:
    seen = set(EARLIER)
    for method, path, _ in scenario:
        found = contract.find_operation(method, path)
        assert found is not None, (method, path)
        seen.add((method, found[0]))
    assert set(sandbox_api.ROUTES) - seen == set()


def test_polled_activities_complete(scenario: list[tuple[str, str, Any]]) -> None:
    polls = [r.json() for m, p, r in scenario if re.match(r"^/activities/[0-9a-f-]{36}$", p)]
    assert polls and {p["state"] for p in polls} <= {"processing", "completed"}
    assert any(p["state"] == "completed" for p in polls)
