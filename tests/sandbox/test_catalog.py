"""Lists, custom fields and tags: enough for a connector to list and validate them."""

from __future__ import annotations

from connectors.constant_contact.sandbox import Sandbox
from tests.sandbox.helpers import Api


def test_seeded_lists_with_membership_counts(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(12)
    body = api.get(
        "/contact_lists", params={"include_membership_count": "all", "include_count": "true"}
    ).json()
    names = [item["name"] for item in body["lists"]]
    assert names == ["Newsletter", "Customers", "Prospects", "Events"]
    assert body["lists_count"] == 4
    counts = {item["name"]: item["membership_count"] for item in body["lists"]}
    expected = {name: 0 for name in names}
    for contact in cc_sandbox.contacts:
        for list_id in contact["list_memberships"]:
            expected[next(n for n in names if cc_sandbox.list_id(n) == list_id)] += 1
    assert counts == expected


def test_create_list_and_reject_duplicates(api: Api) -> None:
    created = api.post("/contact_lists", json={"name": "Webinar", "favorite": True})
    assert created.status_code == 201
    assert created.json()["name"] == "Webinar" and created.json()["list_id"]
    assert api.post("/contact_lists", json={"name": "Webinar"}).status_code == 409
    assert api.post("/contact_lists", json={"favorite": True}).status_code == 400  # name required
    fetched = api.get(f"/contact_lists/{created.json()['list_id']}")
    assert fetched.json()["favorite"] is True


def test_lists_page_with_a_cursor(api: Api) -> None:
    for i in range(5):
        api.post("/contact_lists", json={"name": f"Extra {i}"})
    first = api.get("/contact_lists", params={"limit": 4}).json()
    assert len(first["lists"]) == 4
    second = api.get(first["_links"]["next"]["href"]).json()
    assert [x["name"] for x in second["lists"]] == [f"Extra {i}" for i in range(4)]
    third = api.get(second["_links"]["next"]["href"]).json()
    assert [x["name"] for x in third["lists"]] == ["Extra 4"]
    assert "_links" not in third


def test_custom_fields_list_and_create(api: Api) -> None:
    fields = api.get("/contact_custom_fields").json()["custom_fields"]
    assert {(f["label"], f["name"], f["type"]) for f in fields} == {
        ("Favorite Color", "Favorite_Color", "string"),  # blanks -> underscores, case kept
        ("Member Since", "Member_Since", "date"),
    }
    created = api.post("/contact_custom_fields", json={"label": "Shoe Size", "type": "number"})
    assert created.status_code == 201
    assert created.json()["name"] == "Shoe_Size"
    assert (
        api.post(
            "/contact_custom_fields", json={"label": "shoe size", "type": "number"}
        ).status_code
        == 409
    )
    bad_type = api.post("/contact_custom_fields", json={"label": "Odd", "type": "vector"})
    assert bad_type.status_code == 400


def test_tags_list_create_and_count(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(14)
    tags = api.get("/contact_tags", params={"include_count": "true"}).json()["tags"]
    counts = {t["name"]: t["contacts_count"] for t in tags}
    assert counts == {"VIP": 2, "Lead": 7, "Imported": 0}
    created = api.post("/contact_tags", json={"name": "Webinar 2026"})
    assert created.status_code == 201
    assert api.post("/contact_tags", json={"name": "webinar 2026"}).status_code == 409
    assert api.post("/contact_tags", json={"name": ""}).status_code == 400  # minLength 1


def test_contacts_must_reference_existing_lists_tags_and_fields(api: Api) -> None:
    unknown = "5a5a5a5a-0000-4000-8000-000000000000"
    response = api.post(
        "/contacts",
        json={
            "email_address": {"address": "refs@example.com"},
            "create_source": "Account",
            "list_memberships": [unknown],
            "taggings": [unknown],
            "custom_fields": [{"custom_field_id": unknown, "value": "x"}],
        },
    )
    assert response.status_code == 400
    messages = " ".join(e["error_message"] for e in response.json())
    assert "list" in messages and "tag" in messages and "custom field" in messages
