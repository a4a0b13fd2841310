"""GET /contacts over 1,200 seeded contacts: every filter, include, counts and cursors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.constant_contact.sandbox import Sandbox
from tests.sandbox.helpers import Api

SEEDED = 1200


def ts(year: int, month: int, day: int) -> str:
    return datetime(year, month, day, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def seeded(cc_sandbox: Sandbox) -> Sandbox:
    cc_sandbox.seed_contacts(SEEDED)
    return cc_sandbox


def ids(contacts: list[dict[str, Any]]) -> list[str]:
    return [c["contact_id"] for c in contacts]


def expected(sandbox: Sandbox, keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [c["contact_id"] for c in sandbox.contacts if keep(c)]


def test_default_listing_pages_through_everything_once(seeded: Sandbox, api: Api) -> None:
    first = api.get("/contacts", params={"limit": 500}).json()
    assert len(first["contacts"]) == 500
    assert first["_links"]["next"]["href"].startswith("/v3/contacts?cursor=")
    everything = api.all_contacts({"limit": 500})
    assert len(everything) == SEEDED
    assert ids(everything) == expected(seeded, lambda c: True)


def test_default_limit_is_50_and_last_page_has_no_next_link(seeded: Sandbox, api: Api) -> None:
    assert len(api.get("/contacts").json()["contacts"]) == 50
    last = api.get("/contacts", params={"limit": 500, "created_after": ts(2025, 2, 10)}).json()
    assert 0 < len(last["contacts"]) < 500
    assert "_links" not in last


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        (
            {"status": "unsubscribed"},
            lambda c: c["email_address"]["permission_to_send"] == "unsubscribed",
        ),
        (
            {"status": "active"},
            lambda c: c["email_address"]["permission_to_send"] in ("implicit", "explicit"),
        ),
        (
            {"status": "pending_confirmation,unsubscribed"},
            lambda c: (
                c["email_address"]["permission_to_send"] in ("pending_confirmation", "unsubscribed")
            ),
        ),
        (
            {"email": "contact77@example.com"},
            lambda c: c["email_address"]["address"] == "contact77@example.com",
        ),
        ({"updated_after": ts(2025, 1, 20)}, lambda c: at(c["updated_at"]) > at(ts(2025, 1, 20))),
        ({"updated_before": ts(2025, 1, 20)}, lambda c: at(c["updated_at"]) < at(ts(2025, 1, 20))),
        ({"created_after": ts(2025, 2, 1)}, lambda c: at(c["created_at"]) > at(ts(2025, 2, 1))),
        (
            {"created_after": ts(2025, 1, 10), "created_before": ts(2025, 1, 15)},
            lambda c: at(ts(2025, 1, 10)) < at(c["created_at"]) < at(ts(2025, 1, 15)),
        ),
        (
            {"optout_after": ts(2025, 1, 25)},
            lambda c: (
                "opt_out_date" in c["email_address"]
                and at(c["email_address"]["opt_out_date"]) > at(ts(2025, 1, 25))
            ),
        ),
        (
            {"optout_before": ts(2025, 1, 25)},
            lambda c: (
                "opt_out_date" in c["email_address"]
                and at(c["email_address"]["opt_out_date"]) < at(ts(2025, 1, 25))
            ),
        ),
        ({"sms_status": "not_set"}, lambda c: True),
        ({"sms_status": "explicit"}, lambda c: False),
    ],
    ids=lambda value: ",".join(value) if isinstance(value, dict) else "",
)
def test_each_filter_returns_exactly_the_matching_contacts(
    seeded: Sandbox, api: Api, params: dict[str, str], keep: Callable[[dict[str, Any]], bool]
) -> None:
    want = expected(seeded, keep)
    got = api.all_contacts({**params, "limit": 100})
    assert ids(got) == want
    counted = api.get("/contacts", params={**params, "include_count": "true", "limit": 1}).json()
    assert counted["contacts_count"] == len(want)


def test_lists_and_tags_filters(seeded: Sandbox, api: Api) -> None:
    newsletter, events = seeded.list_id("Newsletter"), seeded.list_id("Events")
    got = api.all_contacts({"lists": f"{newsletter},{events}", "limit": 200})
    want = expected(seeded, lambda c: bool({newsletter, events} & set(c["list_memberships"])))
    assert ids(got) == want
    assert 0 < len(want) < SEEDED

    vip = seeded.tag_id("VIP")
    tagged = api.all_contacts({"tags": vip, "limit": 60})
    assert ids(tagged) == expected(seeded, lambda c: vip in c["taggings"])
    assert len(tagged) == SEEDED // 7


def test_segment_filter_and_its_restriction(seeded: Sandbox, api: Api) -> None:
    newsletter = seeded.list_id("Newsletter")
    got = api.all_contacts({"segment_id": "1", "limit": 250})
    assert ids(got) == expected(seeded, lambda c: newsletter in c["list_memberships"])
    mixed = api.get("/contacts", params={"segment_id": "1", "status": "active"})
    assert mixed.status_code == 400
    assert api.get("/contacts", params={"segment_id": "999"}).status_code == 404


def test_status_all_and_deleted_include_deleted_contacts(seeded: Sandbox, api: Api) -> None:
    doomed = [c["contact_id"] for c in seeded.contacts[:30]]
    for contact_id in doomed:
        assert api.delete(f"/contacts/{contact_id}").status_code == 204
    assert len(api.all_contacts({"limit": 500})) == SEEDED - 30
    assert len(api.all_contacts({"status": "all", "limit": 500})) == SEEDED
    assert ids(api.all_contacts({"status": "deleted"})) == doomed


def test_include_adds_only_the_requested_subresources(seeded: Sandbox, api: Api) -> None:
    plain = api.get("/contacts", params={"limit": 20}).json()["contacts"]
    for contact in plain:
        for key in ("custom_fields", "list_memberships", "phone_numbers", "street_addresses"):
            assert key not in contact
        assert "taggings" not in contact and "notes" not in contact

    everything = "custom_fields,list_memberships,phone_numbers,street_addresses,taggings,notes"
    rich = api.get("/contacts", params={"limit": 20, "include": everything}).json()["contacts"]
    for contact in rich:
        for key in everything.split(","):
            assert isinstance(contact[key], list)
    fifteenth = rich[14]  # contact15: n % 3 == 0 and n % 5 == 0 -> phone and address
    assert fifteenth["email_address"]["address"] == "contact15@example.com"
    assert fifteenth["phone_numbers"] and fifteenth["street_addresses"]

    one = api.get(f"/contacts/{rich[0]['contact_id']}", params={"include": "custom_fields"}).json()
    assert one["custom_fields"][0]["value"]
    assert "list_memberships" not in one


def test_cursor_keeps_the_filters_of_the_first_request(seeded: Sandbox, api: Api) -> None:
    first = api.get("/contacts", params={"status": "unsubscribed", "limit": 10}).json()
    second = api.get(first["_links"]["next"]["href"]).json()
    assert all(
        c["email_address"]["permission_to_send"] == "unsubscribed" for c in second["contacts"]
    )
    assert not set(ids(first["contacts"])) & set(ids(second["contacts"]))
    assert api.get("/contacts", params={"cursor": "not-a-cursor"}).status_code == 400


def test_paging_is_stable_while_contacts_are_added_and_deleted(seeded: Sandbox, api: Api) -> None:
    original = ids(seeded.contacts)
    seen: list[str] = []
    deleted: set[str] = set()
    response = api.get("/contacts", params={"limit": 100})
    page_number = 0
    while True:
        body = response.json()
        seen.extend(ids(body["contacts"]))
        page_number += 1
        # Between pages: delete one contact already seen and one not yet seen, add one.
        unseen = [c for c in original if c not in seen and c not in deleted]
        for victim in (seen[0], unseen[0]) if unseen else (seen[0],):
            if victim not in deleted:
                api.delete(f"/contacts/{victim}")
                deleted.add(victim)
        api.post(
            "/contacts",
            json={
                "email_address": {"address": f"late{page_number}@example.com"},
                "create_source": "Account",
            },
        )
        if "_links" not in body:
            break
        response = api.get(body["_links"]["next"]["href"])
    assert len(seen) == len(set(seen)), "a contact was returned twice"
    survivors = [c for c in original if c not in deleted]
    assert set(survivors) <= set(seen), "a contact that existed throughout was skipped"


@pytest.mark.parametrize("limit", ["0", "501", "ten"])
def test_limit_outside_1_to_500_is_rejected(seeded: Sandbox, api: Api, limit: str) -> None:
    response = api.get("/contacts", params={"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()[0]["error_message"]


def test_20000_contacts_page_through_at_500_per_page(cc_sandbox: Sandbox, api: Api) -> None:
    cc_sandbox.seed_contacts(20_000)
    everything = api.all_contacts({"limit": 500, "include": "list_memberships"})
    assert len(everything) == 20_000
    assert len({c["contact_id"] for c in everything}) == 20_000  # no page repeated or skipped
