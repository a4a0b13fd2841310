"""Contact exports (issue 14): an asynchronous activity, then the CSV its results link names."""

from __future__ import annotations

import csv
import io

from connectors.constant_contact import contract
from connectors.constant_contact.sandbox import Sandbox
from tests.sandbox.helpers import Api
from tests.sandbox.test_bulk_activities import poll_until_done


def _export(api: Api, body: dict) -> list[dict[str, str]]:
    started = api.post("/activities/contact_exports", json=body)
    assert started.status_code == 201, started.text
    assert (
        contract.validate_response("POST", "/activities/contact_exports", 201, started.json()) == []
    )
    assert "results" not in started.json()["_links"]  # no file before it completes
    done = poll_until_done(api, started.json()["activity_id"])[-1]
    href = done["_links"]["results"]["href"]
    assert href == f"/v3/contact_exports/{done['activity_id']}"
    answer = api.get(href)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv"
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_an_export_of_every_contact(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(30)
    rows = _export(api, {})
    live = cc_sandbox.contacts
    assert [r["contact_id"] for r in rows] == [c["contact_id"] for c in live]
    first = rows[0]
    assert first["email_address"] == live[0]["email_address"]["address"]
    assert first["email_permission_status"] == live[0]["email_address"]["permission_to_send"]


def test_an_export_filtered_by_list_and_status_with_chosen_fields(
    cc_sandbox: Sandbox, api: Api
) -> None:
    cc_sandbox.seed_contacts(40)
    customers = cc_sandbox.list_id("Customers")
    body = {
        "list_ids": [customers],
        "status": "active",
        "fields": ["contact_id", "email_address", "email_optin_date"],
    }
    rows = _export(api, body)
    expected = [
        c["contact_id"]
        for c in cc_sandbox.contacts
        if customers in c["list_memberships"]
        and c["email_address"]["permission_to_send"] in ("implicit", "explicit")
    ]
    assert [r["contact_id"] for r in rows] == expected and expected
    assert set(rows[0]) == {"contact_id", "email_address", "email_optin_date"}


def test_mutually_exclusive_export_filters_are_refused(cc_sandbox: Sandbox, api: Api) -> None:
    body = {"tag_ids": [cc_sandbox.tag_id("VIP")], "list_ids": [cc_sandbox.list_id("Events")]}
    refused = api.post("/activities/contact_exports", json=body)
    assert refused.status_code == 400 and "cannot be combined" in refused.text
    opt_out = api.post("/activities/contact_exports", json={"fields": ["email_optout_date"]})
    assert opt_out.status_code == 400 and "email_address" in opt_out.text
    assert api.get("/contact_exports/3fa85f64-5717-4562-b3fc-2c963f66afa6").status_code == 404
