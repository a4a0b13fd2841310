"""Query against the sandbox: paging, every filter, includes, limits, the watermark."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import pytest
import requests

from connectors.base import RunContext
from connectors.constant_contact import client as client_module
from connectors.constant_contact.activities.query import QueryContacts
from connectors.constant_contact.contract import parse_datetime
from connectors.constant_contact.sandbox import Sandbox
from tests.connectors.constant_contact.conftest import LockedConnection

QUERY = QueryContacts()


def read_all(context: RunContext, config: Mapping[str, Any]) -> list[list[dict]]:
    assert QUERY.validate_config(config) == {}
    return list(QUERY.read(context, config))


def emails(batches: list[list[dict]]) -> list[str]:
    return [c["email_address"]["address"] for batch in batches for c in batch]


def seeded(n: int) -> str:
    return f"contact{n}@example.com"


def test_pages_through_more_than_a_thousand_contacts(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(1203)
    batches = read_all(context, {"page_size": 100})
    assert [len(b) for b in batches] == [100] * 12 + [3]  # one batch per page
    assert emails(batches) == [seeded(n) for n in range(1, 1204)]  # all, once, in order
    calls = cc_sandbox.api_requests()
    assert len(calls) == 13
    assert calls[0].query == {"limit": ["100"]}
    assert all(set(c.query) == {"cursor"} for c in calls[1:])  # _links.next.href as given


def test_default_page_size_is_the_maximum(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(501)
    assert [len(b) for b in read_all(context, {})] == [500, 1]


def test_max_records_stops_early(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(300)
    batches = read_all(context, {"page_size": 50, "max_records": 120})
    assert emails(batches) == [seeded(n) for n in range(1, 121)]
    assert len(cc_sandbox.api_requests()) == 3


def test_cancel_between_pages(connection: LockedConnection, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(100)
    pages_read = []
    context = RunContext(connection=connection, is_cancelled=lambda: len(pages_read) >= 2)
    for batch in QUERY.read(context, {"page_size": 10, "incremental": True}):
        pages_read.append(batch)
    assert len(pages_read) == 2 and len(cc_sandbox.api_requests()) == 2
    assert "watermark" not in context.new_state  # an unfinished read moves nothing


def _expect(cc_sandbox: Sandbox, keep: Any) -> list[str]:
    return [c["email_address"]["address"] for c in cc_sandbox.contacts if keep(c)]


def _number(contact: Mapping[str, Any]) -> int:
    return int(contact["email_address"]["address"].removeprefix("contact").split("@")[0])


@pytest.mark.parametrize(
    ("config", "keep"),
    [
        ({"status": ["unsubscribed"]}, lambda c: _number(c) % 10 == 0),
        (
            {"status": ["unsubscribed", "pending_confirmation"]},
            lambda c: _number(c) % 10 == 0 or (_number(c) % 17 == 0),
        ),
        ({"email": "contact7@example.com"}, lambda c: _number(c) == 7),
        (
            {"created_after": "2025-01-02T00:00:00Z", "created_before": "2025-01-03T00:00:00Z"},
            lambda c: 24 < _number(c) < 48,
        ),
        (
            {"updated_after": "2025-01-03T00:00:00Z"},
            lambda c: parse_datetime(c["updated_at"]) > parse_datetime("2025-01-03T00:00:00Z"),
        ),
        (
            {"updated_before": "2025-01-02T00:00:00Z"},
            lambda c: parse_datetime(c["updated_at"]) < parse_datetime("2025-01-02T00:00:00Z"),
        ),
        (
            {"optout_after": "2025-01-04T00:00:00Z"},
            lambda c: _number(c) % 10 == 0 and _number(c) + 48 > 72,
        ),
        (
            {"optout_before": "2025-01-04T00:00:00Z"},
            lambda c: _number(c) % 10 == 0 and _number(c) + 48 < 72,
        ),
        ({"sms_status": ["all"]}, lambda c: True),
    ],
    ids=[
        "status",
        "statuses",
        "email",
        "created",
        "updated_after",
        "updated_before",
        "optout_after",
        "optout_before",
        "sms_status",
    ],
)
def test_filters(context: RunContext, cc_sandbox: Sandbox, config: dict, keep: Any) -> None:
    cc_sandbox.seed_contacts(120)
    expected = _expect(cc_sandbox, keep)
    if "status" in config:  # unsubscribed etc. are not in the default (live) set's complement
        expected = [
            c["email_address"]["address"]
            for c in cc_sandbox.all_contacts(include_deleted=True)
            if keep(c)
        ]
    assert expected  # the filter selects something...
    got = emails(read_all(context, {"page_size": 50, **config}))
    assert sorted(got) == sorted(expected)
    assert len(got) < 120 or config.get("sms_status")  # ...and not everything


def test_list_tag_and_segment_filters(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(60)
    customers, vip = cc_sandbox.list_id("Customers"), cc_sandbox.tag_id("VIP")
    in_list = _expect(cc_sandbox, lambda c: customers in c["list_memberships"])
    tagged = _expect(cc_sandbox, lambda c: vip in c["taggings"])
    assert emails(read_all(context, {"lists": [customers]})) == in_list
    assert emails(read_all(context, {"tags": vip})) == tagged  # comma text works too
    newsletter = cc_sandbox.list_id("Newsletter")
    segment = _expect(cc_sandbox, lambda c: newsletter in c["list_memberships"])
    assert emails(read_all(context, {"segment_id": "1", "page_size": 7})) == segment
    segment_calls = [r for r in cc_sandbox.api_requests() if "segment_id" in r.query]
    assert segment_calls and set(segment_calls[0].query) == {"segment_id", "limit"}


def test_segment_cannot_be_combined(context: RunContext) -> None:
    errors = QUERY.validate_config({"segment_id": "1", "status": ["active"]})
    assert "segment_id" in errors
    assert "page_size" in QUERY.validate_config({"page_size": 501})
    assert "page_size" in QUERY.validate_config({"page_size": "many"})
    assert "max_records" in QUERY.validate_config({"max_records": 0})
    assert "updated_after" in QUERY.validate_config({"updated_after": "yesterday"})
    assert "include" in QUERY.validate_config({"include": ["everything"]})


def test_includes_sub_resources(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(6)
    plain = read_all(context, {})[0]
    assert "phone_numbers" not in plain[2] and "custom_fields" not in plain[0]
    rich = read_all(context, {"include": ["phone_numbers", "custom_fields"]})[0]
    assert rich[2]["phone_numbers"][0]["phone_number"]  # contact3 has a phone
    assert rich[0]["custom_fields"][0]["value"]
    assert cc_sandbox.api_requests()[-1].query["include"] == ["phone_numbers,custom_fields"]
    schema = QUERY.response_schema({"include": ["phone_numbers"]})
    assert "phone_numbers" in schema["properties"] and "notes" not in schema["properties"]


def test_watermark_reads_only_what_changed_since_the_last_run(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(30)
    config = {"incremental": True, "page_size": 10}
    first = RunContext(connection=connection)
    assert len(emails(list(QUERY.read(first, config)))) == 30
    watermark = first.new_state["watermark"]
    assert parse_datetime(watermark).timestamp() == pytest.approx(time.time(), abs=5)

    time.sleep(0.01)
    changed = cc_sandbox.contact_by_email(seeded(5))
    response = requests.put(
        f"{cc_sandbox.api_base_url}/contacts/{changed['contact_id']}",
        headers={"Authorization": f"Bearer {connection.secrets()['access_token']}"},
        json={
            "email_address": {"address": seeded(5)},
            "first_name": "Changed",
            "update_source": "Account",
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    # The watermark is kept to the millisecond, rounded down (at least once, never lost):
    # let the clock move past the update's millisecond.
    time.sleep(0.01)

    second = RunContext(connection=connection, state=dict(first.new_state))
    assert emails(list(QUERY.read(second, config))) == [seeded(5)]
    assert cc_sandbox.api_requests()[-1].query["updated_after"] == [watermark]
    assert second.new_state["watermark"] > watermark

    third = RunContext(connection=connection, state=dict(second.new_state))
    assert emails(list(QUERY.read(third, config))) == []
    # Without the option, state is ignored and not written.
    plain = RunContext(connection=connection, state=dict(second.new_state))
    assert len(emails(list(QUERY.read(plain, {"page_size": 50})))) == 30
    assert plain.new_state == {}


def test_estimate_total_uses_include_count(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(42)
    assert QUERY.estimate_total(context, {"status": ["unsubscribed"]}) == 4
    assert QUERY.estimate_total(context, {"max_records": 10}) == 10
    (call, _) = cc_sandbox.api_requests()
    assert call.query["include_count"] == ["true"]


@pytest.mark.parametrize(("contacts", "page_size"), [(1_200, 500), (500, 500), (0, 500), (7, 3)])
def test_a_counted_query_costs_one_call_per_page(
    context: RunContext, cc_sandbox: Sandbox, contacts: int, page_size: int
) -> None:
    """Issue 17.6: the count comes with the first page (include_count=true), not from a call
    of its own: estimate then read, as the engine does, makes ceil(N / page size) calls."""
    cc_sandbox.seed_contacts(contacts)
    config = {"page_size": page_size}
    assert QUERY.estimate_total(context, config) == contacts
    assert len(emails(read_all(context, config))) == contacts
    calls = cc_sandbox.api_requests()
    assert len(calls) == max(1, math.ceil(contacts / page_size))
    assert calls[0].query["include_count"] == ["true"]
    assert calls[0].query["limit"] == [str(page_size)]


def test_a_prefetched_page_serves_only_its_own_run(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(5)
    counted = RunContext(connection=connection)
    other = RunContext(connection=connection)
    assert QUERY.estimate_total(counted, {"page_size": 50}) == 5
    assert len(emails(read_all(other, {"page_size": 50}))) == 5  # another run: its own call
    assert emails(read_all(counted, {"status": ["unsubscribed"]})) == []  # other filters: asks
    assert len(cc_sandbox.api_requests()) == 3


def test_segment_results_still_computing_are_asked_for_again(
    context: RunContext, cc_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "ACCEPTED_DELAY", 0.01)
    cc_sandbox.seed_contacts(10)
    cc_sandbox.inject(202, count=2, path_prefix="/contacts")  # "accepted, still computing"
    got = emails(read_all(context, {"segment_id": "1"}))
    assert got and [r.status for r in cc_sandbox.api_requests()] == [202, 202, 200]
