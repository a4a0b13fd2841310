"""Bulk JSON import and contact delete: asynchronous activities and their effects."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.constant_contact.sandbox import Sandbox
from tests.sandbox.helpers import Api


def poll_until_done(api: Api, activity_id: str, polls: int = 100) -> list[dict[str, Any]]:
    """Poll as a client would, moving the sandbox's clock on 0.1 s between polls (no sleep)."""
    states = []
    for _ in range(polls):
        body = api.get(f"/activities/{activity_id}").json()
        states.append(body)
        if body["state"] == "completed":
            return states
        api.sandbox.clock.advance(0.1)
    raise AssertionError(f"activity still {states[-1]['state']} after {polls} polls")


def test_import_goes_initialized_processing_completed_and_applies(
    cc_sandbox: Sandbox, api: Api
) -> None:
    cc_sandbox.configure(activity_seconds=30, activity_polls=3)  # complete by polling
    newsletter = cc_sandbox.list_id("Newsletter")
    rows = [{"email": f"bulk{i}@example.com", "first_name": f"B{i}"} for i in range(5)]
    created = api.post(
        "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [newsletter]}
    )
    assert created.status_code == 201
    activity = created.json()
    assert activity["state"] == "initialized"
    assert activity["_links"]["self"]["href"] == f"/v3/activities/{activity['activity_id']}"
    assert cc_sandbox.contact_by_email("bulk0@example.com") is None  # not yet applied

    first = api.get(f"/activities/{activity['activity_id']}").json()
    assert first["state"] == "processing"
    assert 0 < first["percent_done"] < 100
    api.get(f"/activities/{activity['activity_id']}")
    done = api.get(f"/activities/{activity['activity_id']}").json()
    assert done["state"] == "completed"
    assert done["percent_done"] == 100
    assert done["status"]["items_total_count"] == 5
    assert done["status"]["person_count"] == 5
    assert done["activity_errors"] == []
    imported = cc_sandbox.contact_by_email("bulk3@example.com")
    assert imported["first_name"] == "B3"
    assert imported["list_memberships"] == [newsletter]
    assert imported["email_address"]["permission_to_send"] == "implicit"


def test_import_completes_on_its_own_after_the_configured_time(
    cc_sandbox: Sandbox, api: Api
) -> None:
    cc_sandbox.clock.freeze()
    cc_sandbox.configure(activity_seconds=0.2, activity_polls=0)
    newsletter = cc_sandbox.list_id("Newsletter")
    api.post(
        "/activities/contacts_json_import",
        json={"import_data": [{"email": "timed@example.com"}], "list_ids": [newsletter]},
    )

    def found() -> list:
        return api.get("/contacts", params={"email": "timed@example.com"}).json()["contacts"]

    cc_sandbox.clock.advance(0.15)
    assert found() == []
    cc_sandbox.clock.advance(0.1)
    assert len(found()) == 1


def test_bad_rows_become_activity_errors_and_good_rows_still_import(
    cc_sandbox: Sandbox, api: Api
) -> None:
    customers = cc_sandbox.list_id("Customers")
    rows = [
        {"email": "good1@example.com", "cf:favorite_color": "teal"},
        {"email": "not-an-email"},
        {"email": "good2@example.com", "cf:no_such_field": "x"},
        {"first_name": "No Address"},
        {"email": "good3@example.com"},
    ]
    activity = api.post(
        "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [customers]}
    ).json()
    done = poll_until_done(api, activity["activity_id"])[-1]
    assert done["status"]["person_count"] == 2
    assert done["status"]["error_count"] == 3
    errors = done["activity_errors"]
    assert len(errors) == 3
    assert "Line 2" in errors[0] and "not-an-email" in errors[0]
    assert "Line 3" in errors[1] and "cf:no_such_field" in errors[1]
    assert "Line 4" in errors[2]
    good = cc_sandbox.contact_by_email("good1@example.com")
    color_field = next(f for f in cc_sandbox.custom_fields if f["name"] == "Favorite_Color")
    assert good["custom_fields"] == [
        {"custom_field_id": color_field["custom_field_id"], "value": "teal"}
    ]
    assert cc_sandbox.contact_by_email("good2@example.com") is None


def test_rows_breaking_the_row_schema_fail_alone_inside_the_activity(
    cc_sandbox: Sandbox, api: Api
) -> None:
    rows = [
        {"email": "long@example.com", "first_name": "x" * 51},
        {"email": "typed@example.com", "birthday_month": "March"},
        {"email": "fine@example.com", "home_city": "Waltham", "work_phone": "555-0102"},
    ]
    response = api.post(
        "/activities/contacts_json_import",
        json={"import_data": rows, "list_ids": [cc_sandbox.list_id("Newsletter")]},
    )
    assert response.status_code == 201  # a bad row does not sink the request
    done = poll_until_done(api, response.json()["activity_id"])[-1]
    assert done["status"]["error_count"] == 2
    assert "first_name is longer than 50" in done["activity_errors"][0]
    assert "birthday_month must be of type integer" in done["activity_errors"][1]
    fine = cc_sandbox.contact_by_email("fine@example.com")
    assert fine["street_addresses"][0]["city"] == "Waltham"
    assert fine["phone_numbers"][0]["kind"] == "work"


def test_import_updates_existing_contacts_only_where_given(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(3)
    before = cc_sandbox.contact_by_email("contact2@example.com")
    events = cc_sandbox.list_id("Events")
    activity = api.post(
        "/activities/contacts_json_import",
        json={
            "import_data": [{"email": "contact2@example.com", "job_title": "CTO"}],
            "list_ids": [events],
        },
    ).json()
    poll_until_done(api, activity["activity_id"])
    after = cc_sandbox.contact_by_email("contact2@example.com")
    assert after["contact_id"] == before["contact_id"]
    assert after["job_title"] == "CTO"
    assert after["first_name"] == before["first_name"]
    assert after["list_memberships"] == [*before["list_memberships"], events]


def test_import_of_10000_contacts_completes(cc_sandbox: Sandbox, api: Api) -> None:
    newsletter = cc_sandbox.list_id("Newsletter")
    rows = [{"email": f"big{i}@example.com", "first_name": "Big"} for i in range(10_000)]
    activity = api.post(
        "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [newsletter]}
    ).json()
    done = poll_until_done(api, activity["activity_id"])[-1]
    assert done["status"]["person_count"] == 10_000
    counted = api.get("/contacts", params={"include_count": "true", "limit": 1}).json()
    assert counted["contacts_count"] == 10_000


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"import_data": [{"email": "a@example.com"}], "list_ids": []}, "list_ids"),
        ({"import_data": [{"email": "a@example.com"}]}, "list_ids"),
        (
            {
                "import_data": [{"email": "a@example.com"}],
                "list_ids": ["7f0e0f3c-0000-4000-8000-000000000000"],
            },
            "does not exist",
        ),
        ({"import_data": [], "list_ids": ["LIST"]}, "at least one contact"),
    ],
)
def test_import_request_rules(cc_sandbox: Sandbox, api: Api, body: dict, fragment: str) -> None:
    body = {k: [cc_sandbox.list_id("Newsletter")] if v == ["LIST"] else v for k, v in body.items()}
    response = api.post("/activities/contacts_json_import", json=body)
    assert response.status_code == 400
    assert fragment in response.text


def test_import_over_40000_contacts_or_4_mb_is_rejected(cc_sandbox: Sandbox, api: Api) -> None:
    newsletter = cc_sandbox.list_id("Newsletter")
    too_many = [{"email": f"x{i}@e.co"} for i in range(40_001)]
    response = api.post(
        "/activities/contacts_json_import", json={"import_data": too_many, "list_ids": [newsletter]}
    )
    assert response.status_code == 400
    assert "40000" in response.text
    fat = [
        {"email": f"x{i}@example.com", "company_name": "x" * 50, "street": "y" * 255}
        for i in range(13_000)
    ]
    response = api.post(
        "/activities/contacts_json_import", json={"import_data": fat, "list_ids": [newsletter]}
    )
    assert response.status_code == 400
    assert "4 MB" in response.text


def test_contact_delete_by_ids(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(10)
    victims = [c["contact_id"] for c in cc_sandbox.contacts[:4]]
    missing = "0b0b0b0b-0000-4000-8000-000000000000"
    activity = api.post("/activities/contact_delete", json={"contact_ids": [*victims, missing]})
    assert activity.status_code == 201
    done = poll_until_done(api, activity.json()["activity_id"])[-1]
    assert done["status"]["items_completed_count"] == 4
    assert done["activity_errors"] == [f"Contact {missing} not found"]
    assert len(cc_sandbox.contacts) == 6
    assert all(cc_sandbox.contact(v)["deleted_at"] for v in victims)


def test_contact_delete_by_list(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(40)
    events = cc_sandbox.list_id("Events")
    members = {c["contact_id"] for c in cc_sandbox.contacts if events in c["list_memberships"]}
    activity = api.post("/activities/contact_delete", json={"list_ids": [events]}).json()
    done = poll_until_done(api, activity["activity_id"])[-1]
    assert done["status"]["list_count"] == 1
    assert done["status"]["items_completed_count"] == len(members) > 0
    assert not members & {c["contact_id"] for c in cc_sandbox.contacts}


def test_contact_delete_limits(cc_sandbox: Sandbox, api: Api) -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(501)]
    too_many = api.post("/activities/contact_delete", json={"contact_ids": ids})
    assert too_many.status_code == 400
    assert "500" in too_many.text
    neither = api.post("/activities/contact_delete", json={})
    assert neither.status_code == 400


def test_unknown_activity_is_404_and_collection_lists_activities(
    cc_sandbox: Sandbox, api: Api
) -> None:
    assert api.get("/activities/nope").status_code == 404
    newsletter = cc_sandbox.list_id("Newsletter")
    api.post(
        "/activities/contacts_json_import",
        json={"import_data": [{"email": "c@example.com"}], "list_ids": [newsletter]},
    )
    listed = api.get("/activities").json()["activities"]
    assert len(listed) == 1


def test_strict_import_refuses_the_whole_request_for_one_bad_row(
    cc_sandbox: Sandbox, api: Api
) -> None:
    events = cc_sandbox.list_id("Events")
    rows = [{"email": f"s{i}@example.com"} for i in range(5)]
    rows[3]["favourite_colour"] = "teal"
    lenient = api.post(
        "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [events]}
    )
    assert lenient.status_code == 201  # by default an unknown column is ignored
    cc_sandbox.configure(strict_import=True)
    refused = api.post(
        "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [events]}
    )
    assert refused.status_code == 400
    assert "favourite_colour" in refused.text and "Line" not in refused.text  # names no row
    rows[3] = {"email": "s3@example.com", "cf:no such field": "x"}
    assert (
        api.post(
            "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [events]}
        ).status_code
        == 400
    )
    del rows[3]
    assert (
        api.post(
            "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [events]}
        ).status_code
        == 201
    )
