"""Single-contact endpoints: create, read, replace, delete, sign-up form, and their errors."""

from __future__ import annotations

import requests

from connectors.constant_contact.sandbox import Sandbox
from tests.fixtures.sandbox import CC_CLIENT_ID
from tests.sandbox.helpers import Api, error_keys


def new_contact(address: str = "ada@example.com", **extra: object) -> dict:
    return {"email_address": {"address": address}, "create_source": "Account", **extra}


def test_account_summary_answers_the_contract_shape(api: Api) -> None:
    response = api.get("/account/summary", params={"extra_fields": "physical_address"})
    assert response.status_code == 200
    body = response.json()
    assert body["organization_name"]
    assert body["physical_address"]["country_code"] == "US"
    assert "company_logo" not in body


def test_create_then_get_round_trips_the_contact(api: Api, cc_sandbox: Sandbox) -> None:
    list_id = cc_sandbox.list_id("Newsletter")
    created = api.post("/contacts", json=new_contact(first_name="Ada", list_memberships=[list_id]))
    assert created.status_code == 201
    contact_id = created.json()["contact_id"]
    assert created.json()["email_address"]["permission_to_send"] == "implicit"
    assert created.json()["list_memberships"] == [list_id]  # the answer echoes what was sent
    assert "phone_numbers" not in created.json()

    fetched = api.get(f"/contacts/{contact_id}", params={"include": "list_memberships"})
    assert fetched.status_code == 200
    assert fetched.json()["first_name"] == "Ada"
    assert fetched.json()["list_memberships"] == [list_id]
    assert cc_sandbox.contact(contact_id)["email_address"]["address"] == "ada@example.com"


def test_duplicate_email_is_409_naming_the_existing_contact(api: Api) -> None:
    first = api.post("/contacts", json=new_contact("dup@example.com"))
    second = api.post("/contacts", json=new_contact("DUP@example.com"))
    assert second.status_code == 409
    assert second.json() == [
        {
            "error_key": "contacts.api.conflict",
            "error_message": f"Email already exists for contact {first.json()['contact_id']}",
        }
    ]


def test_create_requires_create_source(api: Api) -> None:
    response = api.post("/contacts", json={"email_address": {"address": "x@example.com"}})
    assert response.status_code == 400
    assert "create_source" in response.json()[0]["error_message"]


def test_put_replaces_the_whole_contact_and_requires_update_source(api: Api) -> None:
    contact_id = api.post(
        "/contacts", json=new_contact(first_name="Ada", last_name="Lovelace", job_title="Countess")
    ).json()["contact_id"]

    missing_source = api.put(f"/contacts/{contact_id}", json={"first_name": "Ada"})
    assert missing_source.status_code == 400
    assert "update_source" in missing_source.text

    replaced = api.put(
        f"/contacts/{contact_id}",
        json={
            "email_address": {"address": "ada@example.com"},
            "first_name": "Augusta",
            "update_source": "Contact",
        },
    )
    assert replaced.status_code == 200
    body = replaced.json()
    assert body["first_name"] == "Augusta"
    assert "last_name" not in body and "job_title" not in body  # omitted -> null
    assert body["update_source"] == "Contact"


def test_put_to_another_contacts_email_is_a_conflict(api: Api) -> None:
    api.post("/contacts", json=new_contact("one@example.com"))
    second = api.post("/contacts", json=new_contact("two@example.com")).json()["contact_id"]
    response = api.put(
        f"/contacts/{second}",
        json={"email_address": {"address": "one@example.com"}, "update_source": "Account"},
    )
    assert response.status_code == 409


def test_delete_is_soft_and_hides_the_contact_from_the_default_listing(api: Api) -> None:
    contact_id = api.post("/contacts", json=new_contact()).json()["contact_id"]
    assert api.delete(f"/contacts/{contact_id}").status_code == 204
    assert api.get("/contacts").json()["contacts"] == []
    deleted = api.get("/contacts", params={"status": "deleted"}).json()["contacts"]
    assert [c["contact_id"] for c in deleted] == [contact_id]
    assert deleted[0]["deleted_at"]


def test_unknown_contact_is_404(api: Api) -> None:
    response = api.get("/contacts/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert api.delete("/contacts/00000000-0000-4000-8000-000000000000").status_code == 404


def test_sign_up_form_creates_then_updates_by_email(api: Api, cc_sandbox: Sandbox) -> None:
    newsletter, customers = cc_sandbox.list_id("Newsletter"), cc_sandbox.list_id("Customers")
    body = {
        "email_address": "form@example.com",
        "first_name": "Form",
        "list_memberships": [newsletter],
    }
    created = api.post("/contacts/sign_up_form", json=body)
    assert created.status_code == 201
    assert created.json()["action"] == "created"

    updated = api.post(
        "/contacts/sign_up_form",
        json={"email_address": "form@example.com", "list_memberships": [customers]},
    )
    assert updated.status_code == 200
    assert updated.json() == {"contact_id": created.json()["contact_id"], "action": "updated"}
    stored = cc_sandbox.contact(created.json()["contact_id"])
    assert stored["first_name"] == "Form"  # a partial update keeps what it did not send
    assert stored["list_memberships"] == [newsletter, customers]
    assert stored["email_address"]["permission_to_send"] == "explicit"


def test_missing_invalid_and_expired_tokens_are_401(cc_sandbox: Sandbox, api: Api) -> None:
    url = cc_sandbox.api_base_url + "/contacts"
    assert requests.get(url, timeout=5).status_code == 401
    bad = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 401
    assert error_keys(bad) == ["unauthorized"]

    assert api.get("/contacts").status_code == 200
    cc_sandbox.expire_access_tokens()
    assert api.get("/contacts").status_code == 401


def test_token_without_the_scope_is_403(cc_sandbox: Sandbox) -> None:
    account_only = cc_sandbox.issue_tokens(CC_CLIENT_ID, scopes=("account_read",))
    api = Api(cc_sandbox, account_only["access_token"])
    assert api.get("/account/summary").status_code == 200
    response = api.get("/contacts")
    assert response.status_code == 403
    assert "contact_data" in response.json()[0]["error_message"]

    contacts_only = Api(
        cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID, ["contact_data"])["access_token"]
    )
    assert contacts_only.get("/account/summary").status_code == 403


def test_non_json_body_is_415(api: Api) -> None:
    response = api.post(
        "/contacts", data="email=x@example.com", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    form = api.put(
        "/contacts/00000000-0000-4000-8000-000000000000",
        data={"first_name": "x"},  # form-encoded
    )
    assert form.status_code == 415


def test_malformed_json_is_400(api: Api) -> None:
    response = api.post("/contacts", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()[0]["error_message"]


def test_unimplemented_contract_operation_is_501_not_a_fake_success(cc_sandbox: Sandbox) -> None:
    everything = cc_sandbox.issue_tokens(CC_CLIENT_ID, ["contact_data", "campaign_data"])
    response = Api(cc_sandbox, everything["access_token"]).get("/emails")
    assert response.status_code == 501


def test_chunked_request_bodies_are_read_whole(api: Api) -> None:
    payload = b'{"email_address": {"address": "chunked@example.com"}, "create_source": "Account"}'
    response = api.post(
        "/contacts",
        data=iter([payload[:20], payload[20:]]),  # a generator: requests sends it chunked
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201
    found = api.get("/contacts", params={"email": "chunked@example.com"}).json()["contacts"]
    assert [c["contact_id"] for c in found] == [response.json()["contact_id"]]
