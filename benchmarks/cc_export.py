"""Query in export mode against page mode (issue 14).

    .venv/bin/python -m benchmarks.cc_export [--contacts 200000] [--no-pages]

A sandbox in its own process (4 calls per second, as Constant Contact) holds the contacts.
Query reads them all in export mode (a contact export, its CSV streamed into records) and
in page mode (500 per call; floor = pages / 4 s). Figures: calls, seconds, and the peak
traced memory of an export read of 2,000 and of all the contacts (target: within 10%).
Merged into benchmarks/results.json under "constant_contact_export".
"""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.common import merge_results
from benchmarks.constant_contact import (
    RATE,
    Meter,
    control,
    sandbox_context,
    sandbox_process,
    settle,
    timed_query,
)
from connectors import config as connector_config
from connectors.constant_contact.activities.query import QueryContacts
from connectors.ratelimit import reset_local_limiters

SMALL = 2_000


def run(contacts: int, pages: bool) -> dict[str, Any]:
    with sandbox_process() as url:
        connector_config.configure(url_allow_list=(url,), http_timeout=120.0)
        reset_local_limiters()
        meter = Meter()
        context = sandbox_context(url, meter)
        list(QueryContacts().read(context, {"max_records": 1}))  # warm up
        meter.take()
        exporting = {"mode": "export", "page_size": 500}

        control(url, "seed", {"contacts": SMALL})
        settle()
        records, small_seconds, peak_small = timed_query(context, exporting)
        assert records == SMALL, records
        small = meter.take()

        control(url, "seed", {"contacts": contacts - SMALL})
        settle()
        records, seconds, peak_large = timed_query(context, exporting)
        assert records == contacts, records
        large = meter.take()
        figures: dict[str, Any] = {
            "contacts": contacts,
            "rate_limit_per_second": RATE,
            "export": {
                "calls": large["calls"],
                "polls": large["polls"],
                "seconds": round(seconds, 2),
                "http_429": large["http_429"],
            },
            "export_2000": {"calls": small["calls"], "seconds": round(small_seconds, 2)},
            "peak_memory_bytes_2000": peak_small,
            f"peak_memory_bytes_{contacts}": peak_large,
            "peak_memory_ratio": round(peak_large / peak_small, 3),
        }
        if pages:
            settle()
            records, seconds, _ = timed_query(context, {"mode": "pages", "page_size": 500})
            assert records == contacts, records
            paged = meter.take()
            figures["pages"] = {
                "calls": paged["calls"],
                "seconds": round(seconds, 2),
                "floor_seconds": paged["calls"] / RATE,
                "http_429": paged["http_429"],
            }
        return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--no-pages", action="store_true", help="skip the page-mode read")
    args = parser.parse_args()
    figures = run(args.contacts, not args.no_pages)
    merge_results("constant_contact_export", figures)
    print(f"Query {figures['contacts']:,} contacts (sandbox at {RATE:g} calls/s)")
    print(f"  export: {figures['export']}")
    if "pages" in figures:
        print(f"  pages:  {figures['pages']}")
    print(
        f"  peak memory: {figures['peak_memory_bytes_2000']:,} B at 2,000, "
        f"{figures[f'peak_memory_bytes_{args.contacts}']:,} B at {args.contacts:,} "
        f"(x{figures['peak_memory_ratio']})"
    )
    return 0 if figures["peak_memory_ratio"] <= 1.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
