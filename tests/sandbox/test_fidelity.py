"""Issue 14, "Sandbox fidelity": behaviours third-party clients found differing from the contract.

One test (or a small group) per item of the issue, each over HTTP against the sandbox.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from connectors.constant_contact import contract
from connectors.constant_contact.sandbox import Sandbox
from tests.sandbox.helpers import Api, error_keys
from tests.sandbox.test_bulk_activities import poll_until_done


def _contact(api: Api, address: str, **extra: Any) -> dict[str, Any]:
    body = {"email_address": {"address": address}, "create_source": "Account", **extra}
    response = api.post("/contacts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _valid_response(method: str, path: str, response: requests.Response) -> Any:
    body = response.json() if response.content else None
    assert contract.validate_response(method, path, response.status_code, body) == []
    return body


# ---------------------------------------------------------------- 1. lists and memberships


def test_put_contact_list_renames_it_and_answers_200(cc_sandbox: Sandbox, api: Api) -> None:
    list_id = cc_sandbox.list_id("Events")
    response = api.put(
        f"/contact_lists/{list_id}",
        json={"name": "Events 2026", "favorite": True, "description": "This year"},
    )
    assert response.status_code == 200, response.text
    body = _valid_response("PUT", f"/contact_lists/{list_id}", response)
    assert (body["list_id"], body["name"], body["favorite"]) == (list_id, "Events 2026", True)
    assert api.get(f"/contact_lists/{list_id}").json()["name"] == "Events 2026"
    taken = api.put(f"/contact_lists/{list_id}", json={"name": "Newsletter"})
    assert taken.status_code == 409
    missing = api.put(f"/contact_lists/{uuid.uuid4()}", json={"name": "X"})
    assert missing.status_code == 404


def test_delete_contact_list_is_a_202_activity_and_removes_memberships(
    cc_sandbox: Sandbox, api: Api
) -> None:
    list_id = cc_sandbox.list_id("Events")
    member = _contact(api, "member@example.com", list_memberships=[list_id])
    response = api.delete(f"/contact_lists/{list_id}")
    assert response.status_code == 202, response.text
    activity = _valid_response("DELETE", f"/contact_lists/{list_id}", response)
    poll_until_done(api, activity["activity_id"])
    assert api.get(f"/contact_lists/{list_id}").status_code == 404
    assert list_id not in [x["list_id"] for x in api.get("/contact_lists").json()["lists"]]
    assert cc_sandbox.contact(member["contact_id"])["list_memberships"] == []


def test_add_and_remove_list_memberships_are_activities(cc_sandbox: Sandbox, api: Api) -> None:
    events, prospects = cc_sandbox.list_id("Events"), cc_sandbox.list_id("Prospects")
    ids = [_contact(api, f"m{i}@example.com")["contact_id"] for i in range(3)]
    added = api.post(
        "/activities/add_list_memberships",
        json={"source": {"contact_ids": ids}, "list_ids": [events, prospects]},
    )
    assert added.status_code == 201, added.text
    activity = _valid_response("POST", "/activities/add_list_memberships", added)
    assert cc_sandbox.contact(ids[0])["list_memberships"] == []  # not before it completes
    done = poll_until_done(api, activity["activity_id"])[-1]
    assert done["status"]["items_total_count"] == 3
    assert done["status"]["list_count"] == 2
    assert all(
        set(cc_sandbox.contact(cid)["list_memberships"]) == {events, prospects} for cid in ids
    )

    removed = api.post(
        "/activities/remove_list_memberships",
        json={"source": {"contact_ids": ids[:2]}, "list_ids": [events]},
    )
    assert removed.status_code == 201, removed.text
    poll_until_done(api, removed.json()["activity_id"])
    assert cc_sandbox.contact(ids[0])["list_memberships"] == [prospects]
    assert set(cc_sandbox.contact(ids[2])["list_memberships"]) == {events, prospects}


def test_list_memberships_report_unknown_contacts_in_activity_errors(
    cc_sandbox: Sandbox, api: Api
) -> None:
    known = _contact(api, "known@example.com")["contact_id"]
    stranger = str(uuid.uuid4())
    added = api.post(
        "/activities/add_list_memberships",
        json={
            "source": {"contact_ids": [known, stranger]},
            "list_ids": [cc_sandbox.list_id("Events")],
        },
    )
    done = poll_until_done(api, added.json()["activity_id"])[-1]
    assert done["status"]["items_completed_count"] == 1
    assert any(stranger in error for error in done["activity_errors"])


# ---------------------------------------------------------------- 2-4. deleted contacts


def test_a_deleted_contact_carries_opt_out_source_and_date(cc_sandbox: Sandbox, api: Api) -> None:
    contact_id = _contact(api, "gone@example.com")["contact_id"]
    assert api.delete(f"/contacts/{contact_id}").status_code == 204
    email = api.get(f"/contacts/{contact_id}").json()["email_address"]
    assert email["opt_out_source"] == "Account"
    assert contract.parse_datetime(email["opt_out_date"]) is not None
    assert email["permission_to_send"] == "unsubscribed"


def test_put_with_update_source_contact_does_not_revive_a_deleted_contact(
    cc_sandbox: Sandbox, api: Api
) -> None:
    contact_id = _contact(api, "gone@example.com", first_name="Old")["contact_id"]
    api.delete(f"/contacts/{contact_id}")
    body = {"email_address": {"address": "gone@example.com"}, "first_name": "New"}

    refused = api.put(f"/contacts/{contact_id}", json={**body, "update_source": "Contact"})
    assert refused.status_code == 404
    assert "Account" in refused.json()[0]["error_message"]
    assert cc_sandbox.contact(contact_id)["deleted_at"]
    assert cc_sandbox.contact(contact_id)["first_name"] == "Old"

    revived = api.put(f"/contacts/{contact_id}", json={**body, "update_source": "Account"})
    assert revived.status_code == 200, revived.text
    after = cc_sandbox.contact(contact_id)
    assert "deleted_at" not in after and after["first_name"] == "New"
    assert "opt_out_source" not in after["email_address"]
    assert after["email_address"]["permission_to_send"] == "implicit"


def test_post_with_a_deleted_contacts_email_is_a_409(cc_sandbox: Sandbox, api: Api) -> None:
    contact_id = _contact(api, "gone@example.com")["contact_id"]
    api.delete(f"/contacts/{contact_id}")
    again = api.post(
        "/contacts",
        json={"email_address": {"address": "gone@example.com"}, "create_source": "Account"},
    )
    assert again.status_code == 409
    assert again.json() == [
        {
            "error_key": "contacts.api.conflict",
            "error_message": f"Email already exists for contact {contact_id}",
        }
    ]
    assert cc_sandbox.contact(contact_id)["deleted_at"]  # still deleted


# ---------------------------------------------------------------- 5. rules stated in prose


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"email_address": {"address": "p@example.com", "permission_to_send": "bogus"}}, "bogus"),
        ({"phone_numbers": [{"phone_number": "555", "kind": "fax"}]}, "fax"),
        ({"street_addresses": [{"kind": "mars", "city": "Olympus"}]}, "mars"),
        ({"anniversary": "nodate"}, "nodate"),
        ({"anniversary": "2026-13-45"}, "2026-13-45"),
        ({"birthday_month": 13, "birthday_day": 1}, "13"),
        ({"create_source": "Robot"}, "Robot"),
    ],
)
def test_values_the_contract_enumerates_in_prose_are_refused(
    api: Api, extra: dict[str, Any], words: str
) -> None:
    body = {"email_address": {"address": "p@example.com"}, "create_source": "Account", **extra}
    response = api.post("/contacts", json=body)
    assert response.status_code == 400, response.text
    assert words in response.text
    assert contract.validate_request("POST", "/contacts", {}, body, "application/json")


@pytest.mark.parametrize("anniversary", ["2006-11-15", "11/15/2006", "1/5/2006", "2006/1/5"])
def test_the_anniversary_formats_the_contract_lists_are_accepted(
    api: Api, anniversary: str
) -> None:
    _contact(api, "a@example.com", anniversary=anniversary)


def test_mutually_exclusive_sources_are_refused(cc_sandbox: Sandbox, api: Api) -> None:
    contact_id = _contact(api, "x@example.com")["contact_id"]
    both = api.post(
        "/activities/add_list_memberships",
        json={
            "source": {"contact_ids": [contact_id], "list_ids": [cc_sandbox.list_id("Events")]},
            "list_ids": [cc_sandbox.list_id("Prospects")],
        },
    )
    assert both.status_code == 400
    assert "source" in both.text


# ---------------------------------------------------------------- 6. 401 bodies


def test_a_401_body_is_the_authorization_error_object(cc_sandbox: Sandbox, api: Api) -> None:
    response = requests.get(
        cc_sandbox.api_base_url + "/contacts",
        headers={"Authorization": "Bearer nope"},
        timeout=5,
    )
    assert response.status_code == 401
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error_key", "error_message"}
    assert contract.validate_response("GET", "/contacts", 401, body) == []
    assert contract.definition_schema("AuthorizationErrorSchema")["type"] == "object"


# ---------------------------------------------------------------- 7. custom field names


def test_custom_field_name_keeps_the_labels_case(api: Api) -> None:
    response = api.post(
        "/contact_custom_fields", json={"label": "Vehicle make and model year", "type": "string"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Vehicle_make_and_model_year"


# ---------------------------------------------------------------- 8. the maxItems: 0 typos


def test_a_max_items_zero_typo_is_read_from_the_description(cc_sandbox: Sandbox, api: Api) -> None:
    removal = {
        "source": {"contact_ids": [str(uuid.uuid4()) for _ in range(500)]},
        "list_ids": [cc_sandbox.list_id("Events")],
    }
    assert api.post("/activities/remove_list_memberships", json=removal).status_code == 201
    removal["source"]["contact_ids"].append(str(uuid.uuid4()))
    too_many = api.post("/activities/remove_list_memberships", json=removal)
    # The limit read from the description: 501 ids are "too long" (the ids themselves are random,
    # so the message is matched on its reason, not on a number that may appear in an id).
    assert too_many.status_code == 400 and "contact_ids" in too_many.text
    assert too_many.text.rstrip().endswith('is too long"}]')

    field_id = cc_sandbox.custom_fields[0]["custom_field_id"]
    deleted = api.post("/activities/custom_fields_delete", json={"custom_field_ids": [field_id]})
    assert deleted.status_code == 201, deleted.text
    many = {"custom_field_ids": [str(uuid.uuid4()) for _ in range(101)]}
    assert api.post("/activities/custom_fields_delete", json=many).status_code == 400


def test_every_max_items_zero_in_the_contract_is_corrected() -> None:
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("maxItems") == 0:
                found.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(contract.load_contract(), "")
    assert found == []
    source = contract.load_contract()["definitions"]["ListActivityRemoveContacts"]
    assert source["properties"]["source"]["properties"]["contact_ids"]["maxItems"] == 500
    assert source["properties"]["list_ids"]["maxItems"] == 50


# ---------------------------------------------------------------- 9. where the contract is silent


def test_create_and_update_answers_echo_the_sub_resources_they_stored(
    cc_sandbox: Sandbox, api: Api
) -> None:
    list_id = cc_sandbox.list_id("Newsletter")
    created = _contact(
        api,
        "echo@example.com",
        list_memberships=[list_id],
        phone_numbers=[{"phone_number": "555-0101", "kind": "work"}],
    )
    assert created["list_memberships"] == [list_id]
    assert created["phone_numbers"][0]["phone_number"] == "555-0101"
    assert "street_addresses" not in created  # only what was sent
    updated = api.put(
        f"/contacts/{created['contact_id']}",
        json={
            "email_address": {"address": "echo@example.com"},
            "update_source": "Account",
            "taggings": [cc_sandbox.tag_id("VIP")],
        },
    ).json()
    assert updated["taggings"] == [cc_sandbox.tag_id("VIP")]


def test_a_cursor_stands_alone(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(5)
    first = api.get("/contacts", params={"limit": 2}).json()
    href = first["_links"]["next"]["href"]
    assert api.get(href).status_code == 200
    mixed = api.get(href + "&status=all")
    assert mixed.status_code == 400 and "cursor" in mixed.text
    tags = api.get("/contact_tags", params={"limit": 1}).json()
    assert api.get(tags["_links"]["next"]["href"]).status_code == 200
    assert "limit" not in tags["_links"]["next"]["href"]


@pytest.mark.parametrize("value", ["2026-01-01", "2026-01-01T10:00:00", "2026-01-01 10:00:00Z"])
def test_date_time_parameters_need_the_full_rfc3339_form(api: Api, value: str) -> None:
    response = api.get("/contacts", params={"updated_after": value})
    assert response.status_code == 400
    assert "RFC 3339" in response.text


def test_a_full_rfc3339_date_time_is_accepted(api: Api) -> None:
    for value in ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00.123+02:00"):
        assert api.get("/contacts", params={"updated_after": value}).status_code == 200


def test_a_429_says_when_to_retry(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.clock.freeze()
    cc_sandbox.configure(rate_limit=1, sliding_window=True)
    statuses = [api.get("/contacts") for _ in range(2)]
    throttled = statuses[-1]
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert error_keys(throttled) == ["throttled"]

    cc_sandbox.configure(rate_limit=0, daily_quota=1)
    cc_sandbox.clock.advance(2)
    over = api.get("/contacts")
    assert over.status_code == 429 and error_keys(over) == ["quota_exceeded"]
    assert 0 < int(over.headers["Retry-After"]) <= 86_400


def test_query_parameters_the_prose_calls_mutually_exclusive_are_refused(
    cc_sandbox: Sandbox,
) -> None:
    cc_sandbox.seed_contacts(1)
    token = cc_sandbox.issue_tokens("test-client", ("contact_data", "campaign_data"))
    contact_id = cc_sandbox.contacts[0]["contact_id"]
    url = f"{cc_sandbox.api_base_url}/reports/contact_reports/{contact_id}/activity_details"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    both = requests.get(
        url,
        params={"tracking_activities_list": "em_opens", "tracking_activity_type": "em_opens"},
        headers=headers,
        timeout=5,
    )
    assert both.status_code == 400 and "mutually exclusive" in both.text
    one = requests.get(
        url, params={"tracking_activity_type": "em_opens"}, headers=headers, timeout=5
    )
    assert one.status_code == 200
