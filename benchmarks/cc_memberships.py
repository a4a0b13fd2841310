"""Add 40,000 contacts to a list through "Add contacts to lists" (issue 14).

    .venv/bin/python -m benchmarks.cc_memberships [--contacts 40000]

A sandbox in its own process (4 calls per second, as Constant Contact) holds the contacts;
the activity writes them in its own batch size (500 contact ids, one add_list_memberships
activity per batch), as a run does, and polls each activity to its end. Target: at most
contacts / 500 requests (80 for 40,000) plus the polls. Figures: requests, polls, seconds,
the floor (all calls / 4 s), 429s. Merged into benchmarks/results.json under
"constant_contact_memberships".
"""

from __future__ import annotations

import argparse
from typing import Any

import requests

from benchmarks.common import merge_results
from benchmarks.constant_contact import (
    RATE,
    Meter,
    control,
    sandbox_context,
    sandbox_process,
    settle,
    write_in_batches,
)
from connectors import config as connector_config
from connectors.constant_contact.activities.memberships import AddToLists
from connectors.constant_contact.sandbox.store import stable_id
from connectors.ratelimit import reset_local_limiters


def run(contacts: int) -> dict[str, Any]:
    with sandbox_process() as url:
        connector_config.configure(url_allow_list=(url,), http_timeout=60.0)
        reset_local_limiters()
        meter = Meter()
        context = sandbox_context(url, meter)
        control(url, "seed", {"contacts": contacts, "lists": ["Customers"]})
        answer = requests.get(url + "/_sandbox/contacts", timeout=120)
        answer.raise_for_status()
        rows = [{"contact_id": c["contact_id"]} for c in answer.json()["contacts"]]
        events = stable_id("list", "Events")
        settle()
        results, seconds = write_in_batches(AddToLists(), context, {"list_ids": [events]}, rows)
        measured = meter.take()
        assert len(results) == contacts and all(r.ok for r in results), "not all added"
        members = requests.get(url + "/_sandbox/contacts", timeout=120).json()["contacts"]
        assert all(events in c["list_memberships"] for c in members), "a contact is missing"
        requests_sent = measured["calls"] - measured["polls"]
        return {
            "contacts": contacts,
            "requests": requests_sent,
            "requests_target": -(-contacts // 500),
            "polls": measured["polls"],
            "calls": measured["calls"],
            "seconds": round(seconds, 2),
            "floor_seconds": measured["calls"] / RATE,
            "http_429": measured["http_429"],
            "rate_limit_per_second": RATE,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=40_000)
    args = parser.parse_args()
    figures = run(args.contacts)
    merge_results("constant_contact_memberships", figures)
    print(f"Add {figures['contacts']:,} contacts to a list (sandbox at {RATE:g} calls/s)")
    for key in ("requests", "requests_target", "polls", "calls", "seconds", "floor_seconds"):
        print(f"  {key:>16}: {figures[key]}")
    print(f"  {'http_429':>16}: {figures['http_429']}")
    ok = figures["requests"] <= figures["requests_target"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
