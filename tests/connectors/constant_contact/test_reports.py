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
