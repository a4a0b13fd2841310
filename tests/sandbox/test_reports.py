"""Email reports (issue 14): campaign summaries, a contact's tracking activity and campaign
tracking lists, answered in the contract's shapes, paged, and only with campaign_data."""

from __future__ import annotations

import pytest

from connectors.constant_contact import contract
from connectors.constant_contact.sandbox import Sandbox
from connectors.constant_contact.sandbox.reports import campaigns
from tests.fixtures.sandbox import CC_CLIENT_ID
from tests.sandbox.helpers import Api

SCOPES = ("contact_data", "campaign_data", "offline_access")


@pytest.fixture
def reports_api(cc_sandbox: Sandbox) -> Api:
    return Api(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID, SCOPES)["access_token"])


def _valid(path: str, response) -> dict:
    assert response.status_code == 200, response.text
    assert contract.validate_response("GET", path, 200, response.json()) == []
    return response.json()


def test_campaign_summaries_count_each_kind(cc_sandbox: Sandbox, reports_api: Api) -> None:
    cc_sandbox.seed_contacts(30)
    path = "/reports/summary_reports/email_campaign_summaries"
    body = _valid(path, reports_api.get(path))
    rows = body["bulk_email_campaign_summaries"]
    assert [r["campaign_id"] for r in rows] == [c["campaign_id"] for c in reversed(campaigns())]
    first = rows[-1]["unique_counts"]  # the older campaign
    assert (first["sends"], first["opens"], first["clicks"]) == (30, 15, 7)
    assert first["not_opened"] == 15 and first["optouts"] == 2


def test_a_contacts_activity_is_newest_first_and_paged(
    cc_sandbox: Sandbox, reports_api: Api
) -> None:
    cc_sandbox.seed_contacts(4)
    contact = cc_sandbox.contacts[3]  # sequence 4: sent, opened and clicked, twice
    path = f"/reports/contact_reports/{contact['contact_id']}/activity_details"
    body = _valid(path, reports_api.get(path, params={"limit": "4"}))
    events = body["tracking_activities"]
    assert len(events) == 4 and body["_links"]["next"]["href"]
    assert [e["created_time"] for e in events] == sorted(
        (e["created_time"] for e in events), reverse=True
    )
    rest = _valid(path, reports_api.get(body["_links"]["next"]["href"]))
    assert len(rest["tracking_activities"]) == 2 and "next" not in rest["_links"]
    only = _valid(path, reports_api.get(path, params={"tracking_activities_list": "em_clicks"}))
    assert {e["tracking_activity_type"] for e in only["tracking_activities"]} == {"em_clicks"}


@pytest.mark.parametrize(("which", "count"), [("opens", 10), ("clicks", 5), ("bounces", 2)])
def test_campaign_tracking_lists(
    cc_sandbox: Sandbox, reports_api: Api, which: str, count: int
) -> None:
    cc_sandbox.seed_contacts(20)
    activity_id = campaigns()[0]["campaign_activity_id"]
    path = f"/reports/email_reports/{activity_id}/tracking/{which}"
    body = _valid(path, reports_api.get(path))
    assert len(body["tracking_activities"]) == count


def test_reports_need_the_campaign_data_scope(cc_sandbox: Sandbox, api: Api) -> None:
    answer = api.get("/reports/summary_reports/email_campaign_summaries")
    assert answer.status_code == 403 and "campaign_data" in answer.text
