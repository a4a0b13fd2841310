"""Email reports: campaign summaries, a contact's tracking activity, campaign tracking lists.

The sandbox account has two sent email campaigns (stable ids). Who received, opened,
clicked, bounced or opted out is derived from each live contact's sequence number, so a
test can predict every report without seeding events:

* every live contact with an email address was sent both campaigns;
* opened: even sequence numbers; clicked: multiples of 4; bounced: seq % 10 == 3;
  opted out (unsubscribed by the campaign): seq % 15 == 7 (first campaign only).

Events happen one minute apart per contact after the campaign's send time, and every list
is ordered newest first, as Constant Contact orders them. Pages follow `_links.next`
(a cursor standing alone).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .clock import iso
from .cursors import decode_cursor, encode_cursor
from .errors import ApiError
from .store import Store, email_of, stable_id

CAMPAIGNS = (
    ("Spring newsletter", 1_767_225_600.0),  # 2026-01-01T00:00:00Z
    ("Summer sale", 1_772_323_200.0),  # 2026-03-01T00:00:00Z
)
EVENT_TYPES = ("em_sends", "em_opens", "em_clicks", "em_bounces", "em_optouts")
TRACKING_KINDS = {
    "opens": "em_opens",
    "clicks": "em_clicks",
    "bounces": "em_bounces",
    "optouts": "em_optouts",
}
LINK_URL = "https://www.example.com/offer"


def campaigns() -> list[dict[str, Any]]:
    return [
        {
            "campaign_id": stable_id("campaign", name),
            "campaign_activity_id": stable_id("campaign_activity", name),
            "name": name,
            "sent": sent,
        }
        for name, sent in CAMPAIGNS
    ]


def _happened(kind: str, seq: int, first_campaign: bool) -> bool:
    return {
        "em_sends": True,
        "em_opens": seq % 2 == 0,
        "em_clicks": seq % 4 == 0,
        "em_bounces": seq % 10 == 3,
        "em_optouts": first_campaign and seq % 15 == 7,
    }[kind]


def _events(contact: dict[str, Any], campaign: dict[str, Any], first: bool) -> Iterator[dict]:
    offset = 60.0 * (contact["_seq"] % 1000)
    for step, kind in enumerate(EVENT_TYPES):
        if _happened(kind, contact["_seq"], first):
            yield {
                "contact_id": contact["contact_id"],
                "campaign_activity_id": campaign["campaign_activity_id"],
                "tracking_activity_type": kind,
                "created_time": iso(campaign["sent"] + offset + step),
            }


def _recipients(store: Store) -> Iterator[dict[str, Any]]:
    return (c for c in store.live_contacts() if email_of(c))


def _page(
    items: list[dict[str, Any]], query: Mapping[str, str], path: str, default: int
) -> dict[str, Any]:
    start = 0
    if query.get("cursor"):
        remembered = decode_cursor(query["cursor"])
        start, query = int(remembered["next"]), remembered
    limit = query.get("limit") or str(default)
    if not limit.isdigit() or not 1 <= int(limit) <= 500:
        raise ApiError.validation([f"limit: {limit!r} must be 1 to 500"])
    end = start + int(limit)
    body: dict[str, Any] = {"items": items[start:end]}
    if end < len(items):
        keep = [k for k in query if k not in ("next", "limit", "cursor")]
        cursor = encode_cursor(query, end, int(limit), keep)
        body["_links"] = {"next": {"href": f"/v3{path}?cursor={cursor}"}}
    return body


def email_campaign_summaries(store: Store, query: Mapping[str, str]) -> dict[str, Any]:
    recipients = list(_recipients(store))
    rows = []
    for index, campaign in enumerate(campaigns()):
        first = index == 0
        counts = dict.fromkeys(("sends", "opens", "clicks", "forwards", "optouts"), 0)
        counts.update(abuse=0, bounces=0)
        for contact in recipients:
            for kind, key in (
                ("em_sends", "sends"),
                ("em_opens", "opens"),
                ("em_clicks", "clicks"),
                ("em_bounces", "bounces"),
                ("em_optouts", "optouts"),
            ):
                counts[key] += _happened(kind, contact["_seq"], first)
        counts["not_opened"] = counts["sends"] - counts["opens"]
        rows.append(
            {
                "campaign_id": campaign["campaign_id"],
                "campaign_type": "Custom Code Email",
                "last_sent_date": iso(campaign["sent"]),
                "unique_counts": counts,
            }
        )
    rows.reverse()  # most recently sent first
    page = _page(rows, query, "/reports/summary_reports/email_campaign_summaries", 50)
    sends = sum(r["unique_counts"]["sends"] for r in rows) or 1

    def percent(key: str) -> float:
        return round(100.0 * sum(r["unique_counts"][key] for r in rows) / sends, 1)

    body: dict[str, Any] = {
        "bulk_email_campaign_summaries": page["items"],
        "aggregate_percents": {
            "open": percent("opens"),
            "click": percent("clicks"),
            "did_not_open": percent("not_opened"),
            "bounce": percent("bounces"),
            "unsubscribe": percent("optouts"),
        },
    }
    if "_links" in page:
        body["_links"] = page["_links"]
    return body


def contact_activity(store: Store, contact_id: str, query: Mapping[str, str]) -> dict[str, Any]:
    contact = store.contacts.get(contact_id)
    if contact is None:
        raise ApiError.of(404, f"Contact {contact_id} not found.", "contacts.api.not.found")
    if query.get("cursor"):
        query = {**decode_cursor(query["cursor"]), "cursor": query["cursor"]}
    wanted = {k.strip() for k in (query.get("tracking_activities_list") or "").split(",") if k}
    with_names = query.get("include_campaign_activity_names", "true") != "false"
    events = []
    for index, campaign in enumerate(campaigns()):
        for event in _events(contact, campaign, index == 0):
            if wanted and event["tracking_activity_type"] not in wanted:
                continue
            if with_names:
                event["campaign_activity_name"] = campaign["name"]
            events.append(event)
    events.sort(key=lambda e: e["created_time"], reverse=True)
    page = _page(events, query, f"/reports/contact_reports/{contact_id}/activity_details", 100)
    return _tracking_page(page)


def campaign_tracking(
    store: Store, activity_id: str, which: str, query: Mapping[str, str]
) -> dict[str, Any]:
    found = [(i, c) for i, c in enumerate(campaigns()) if c["campaign_activity_id"] == activity_id]
    if not found:
        raise ApiError.of(404, f"Campaign activity {activity_id} not found.", "not_found")
    index, campaign = found[0]
    kind = TRACKING_KINDS[which]
    rows = []
    for contact in _recipients(store):
        for event in _events(contact, campaign, index == 0):
            if event["tracking_activity_type"] != kind:
                continue
            row = {**event, "email_address": email_of(contact)}
            for name in ("first_name", "last_name"):
                if contact.get(name):
                    row[name] = contact[name]
            if kind == "em_clicks":
                row.update(url_id="1", link_url=LINK_URL)
            elif kind == "em_bounces":
                row["bounce_code"] = "B"
            elif kind in ("em_opens", "em_clicks"):
                row["device_type"] = "computer"
            rows.append(row)
    rows.sort(key=lambda r: r["created_time"], reverse=True)
    path = f"/reports/email_reports/{activity_id}/tracking/{which}"
    page = _page(rows, query, path, 500)
    return _tracking_page(page)


def _tracking_page(page: dict[str, Any]) -> dict[str, Any]:
    # Some tracking pages require _links (BouncesTrackingActivitiesPage): always present,
    # empty on the last page.
    return {"tracking_activities": page["items"], "_links": page.get("_links") or {}}
