"""Report sources (issue 14) over HTTP against the sandbox's campaigns: summaries, contacts'
tracking activity (ids from the configuration or a variable), campaign tracking lists."""

from __future__ import annotations

import jsonschema
import pytest

from connectors.base import ConnectorError, RunContext
from connectors.constant_contact.activities import ACTIVITY_TYPES
from connectors.constant_contact.sandbox import Sandbox
from connectors.constant_contact.sandbox.reports import campaigns
from tests.connectors.constant_contact.conftest import Recorder, make_connection
from tests.fixtures.sandbox import CC_CLIENT_ID


@pytest.fixture
def reporting(cc_sandbox: Sandbox, recorder: Recorder) -> RunContext:
    scopes = ("contact_data", "campaign_data", "account_read", "offline_access")
    connection = make_connection(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID, scopes))
    return RunContext(connection=connection, log=recorder.log, on_http=recorder.on_http)


def read_all(context: RunContext, key: str, config: dict | None = None) -> list[dict]:
    activity = ACTIVITY_TYPES[key]
    assert activity.validate_config(config or {}) == {}
    records = [r for batch in activity.read(context, config or {}) for r in batch]
    validator = jsonschema.Draft4Validator(activity.response_schema(config or {}))
    assert all(not list(validator.iter_errors(r)) for r in records)
    return records


def test_campaign_summaries(reporting: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(40)
    rows = read_all(reporting, "reports_campaign_summaries")
    assert len(rows) == 2
    assert {r["unique_counts"]["sends"] for r in rows} == {40}


def test_contacts_tracking_activity_pages_through_each_contact(
    reporting: RunContext, cc_sandbox: Sandbox, recorder: Recorder
) -> None:
    cc_sandbox.seed_contacts(8)
    ids = [c["contact_id"] for c in cc_sandbox.contacts]
    config = {"contact_ids": [ids[3], ids[7]], "tracking_activities": ["em_opens", "em_clicks"]}
    events = read_all(reporting, "reports_contact_activity", config)
    assert [e["contact_id"] for e in events] == [ids[3]] * 4 + [ids[7]] * 4
    assert {e["tracking_activity_type"] for e in events} == {"em_opens", "em_clicks"}
    assert all(e["campaign_activity_name"] for e in events)


def test_an_unknown_contact_is_named_in_the_log(
    reporting: RunContext, cc_sandbox: Sandbox, recorder: Recorder
) -> None:
    cc_sandbox.seed_contacts(2)
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    config = {"contact_ids": f"{missing}, {cc_sandbox.contacts[1]['contact_id']}"}
    events = read_all(reporting, "reports_contact_activity", config)
    assert events and all(e["contact_id"] != missing for e in events)
    assert any(missing in message for level, message in recorder.logs if level == "warning")


@pytest.mark.parametrize(("which", "count"), [("opens", 15), ("clicks", 7), ("optouts", 2)])
def test_campaign_tracking_lists(
    reporting: RunContext, cc_sandbox: Sandbox, which: str, count: int
) -> None:
    cc_sandbox.seed_contacts(30)
    config = {"campaign_activity_id": campaigns()[0]["campaign_activity_id"], "tracking": which}
    rows = read_all(reporting, "reports_campaign_tracking", config)
    assert len(rows) == count


def test_without_campaign_data_the_403_names_it(context: RunContext) -> None:
    with pytest.raises(ConnectorError) as raised:
        read_all(context, "reports_campaign_summaries")
    assert "campaign_data" in str(raised.value)


# ------------------------------------------- the tracking report fed by a previous step


def lookup(context: RunContext, records: list[dict], **config) -> list:
    activity = ACTIVITY_TYPES["reports_contact_activity_lookup"]
    assert activity.role == "target" and activity.responds_per_record
    assert activity.validate_config(config) == {}
    results = activity.write(context, config, records)
    assert len(results) == len(records)
    schema = activity.response_schema(config)
    for result in results:
        if result.ok:
            jsonschema.Draft4Validator(schema).validate(result.response)
    return results


def test_the_lookup_reads_every_page_of_each_records_contact(
    reporting: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(6)
    ids = [c["contact_id"] for c in cc_sandbox.contacts]
    direct = read_all(reporting, "reports_contact_activity", {"contact_ids": [ids[2]]})
    assert len(direct) > 2
    before = len(cc_sandbox.api_requests())
    results = lookup(reporting, [{"contact_id": ids[2]}, {"contact_id": ids[4]}], page_size=2)
    assert [r.external_id for r in results] == [ids[2], ids[4]]
    assert all(r.ok and r.action == "read" for r in results)
    first = results[0].response
    assert first["contact_id"] == ids[2] and first["truncated"] is False
    assert first["tracking_activities"] == direct  # every page, in order, newest first
    calls = cc_sandbox.api_requests()[before:]
    assert all(c.query == {"limit": ["2"]} or set(c.query) == {"cursor"} for c in calls)
    pages = [c for c in calls if ids[2] in c.path]  # paged by _links.next, cursor alone
    assert len(pages) == -(-len(direct) // 2) and "cursor" in pages[1].query


def test_an_unknown_contact_fails_only_its_record(
    reporting: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(2)
    known = cc_sandbox.contacts[0]["contact_id"]
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    records = [{"contact_id": missing}, {"contact_id": "not-an-id"}, {"contact_id": known}]
    unknown, bad, found = lookup(reporting, records, max_per_contact=1)
    assert not unknown.ok and unknown.key == missing
    assert unknown.error_message == f"Contact {missing} not found."
    assert not bad.ok and bad.error_key == "validation" and "not a UUID" in bad.error_message
    assert found.ok and len(found.response["tracking_activities"]) == 1
    assert found.response["truncated"] is True
    sent = [r.path for r in cc_sandbox.api_requests() if "/contact_reports/" in r.path]
    assert not any("not-an-id" in p for p in sent)
