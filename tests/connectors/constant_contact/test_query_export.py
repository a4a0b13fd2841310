"""Query's export mode (issue 14): a contact export streamed into records, chosen on request
or automatically above a threshold; the same contacts as page mode in a few calls."""

from __future__ import annotations

import csv

import jsonschema
import pytest

from connectors.base import RunContext
from connectors.constant_contact.activities import export
from connectors.constant_contact.activities.query import QueryContacts
from connectors.constant_contact.sandbox import Sandbox

QUERY = QueryContacts()


@pytest.fixture(autouse=True)
def quick_activities(cc_sandbox: Sandbox) -> None:
    cc_sandbox.configure(activity_seconds=0.05, activity_polls=1)


def read(context: RunContext, config: dict) -> list[list[dict]]:
    QUERY.estimate_total(context, config)  # as the engine does before reading
    return list(QUERY.read(context, config))


def calls(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path.split("/v3", 1)[1]) for r in sandbox.api_requests()]


def test_export_mode_yields_what_page_mode_yields(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(1_200)
    customers = cc_sandbox.list_id("Customers")
    config = {"lists": [customers], "status": ["active"]}
    pages = [c for batch in read(context, config) for c in batch]
    seq = len(cc_sandbox.api_requests())

    batches = read(context, {**config, "mode": "export"})
    exported = [c for batch in batches for c in batch]

    assert [c["contact_id"] for c in exported] == [c["contact_id"] for c in pages]
    for mine, theirs in zip(exported, pages, strict=True):
        assert mine["email_address"]["address"] == theirs["email_address"]["address"]
        assert mine.get("first_name") == theirs.get("first_name")
        assert mine["email_address"]["permission_to_send"] in ("implicit", "explicit")
    assert len(pages) > 300 and all(len(b) <= 500 for b in batches)
    made = [c for c in calls(cc_sandbox)[seq:] if c[0] == "POST" or "export" in c[1]]
    assert made[0] == ("POST", "/activities/contact_exports")
    assert made[-1][1].startswith("/contact_exports/")
    body = cc_sandbox.api_requests()[seq + 1].json  # after the counted first page
    assert body == {"list_ids": [customers], "status": "active"}
    validator = jsonschema.Draft4Validator(QUERY.response_schema(config))
    assert all(not list(validator.iter_errors(c)) for c in exported)


def test_automatic_mode_exports_above_the_threshold_only(
    context: RunContext, cc_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "EXPORT_THRESHOLD", 300)
    cc_sandbox.seed_contacts(300)
    assert sum(len(b) for b in read(context, {})) == 300
    assert not [c for c in calls(cc_sandbox) if "export" in c[1]]
    cc_sandbox.seed_contacts(1)
    assert sum(len(b) for b in read(context, {})) == 301
    assert ("POST", "/activities/contact_exports") in calls(cc_sandbox)
    # A query an export cannot express stays in page mode however large.
    before = len([c for c in calls(cc_sandbox) if "export" in c[1]])
    read(context, {"include": ["list_memberships"]})
    assert len([c for c in calls(cc_sandbox) if "export" in c[1]]) == before


def test_export_mode_stops_at_max_records(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(700)
    batches = read(context, {"mode": "export", "max_records": 620})
    assert [len(b) for b in batches] == [500, 120]


def test_export_mode_is_refused_for_what_it_cannot_filter() -> None:
    problems = QUERY.validate_config({"mode": "export", "email": "a@example.com"})
    assert "email" in problems["mode"]
    assert "mode" not in QUERY.validate_config({"mode": "export", "tags": ["x"]})
    assert export.export_problem({"status": ["active", "unsubscribed"]})


def test_the_csv_is_read_whatever_the_chunk_boundaries() -> None:
    text = 'contact_id,first_name\r\n1,"Zoë\r\nsecond line"\r\n2,Ada\r\n'.encode()
    expected = [
        {"contact_id": "1", "first_name": "Zoë\r\nsecond line"},
        {"contact_id": "2", "first_name": "Ada"},
    ]
    for size in (1, 2, 3, 7, len(text)):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert list(csv.DictReader(export.csv_lines(chunks))) == expected, size
