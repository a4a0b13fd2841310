"""Mapping throughput: records per second through ``compile_mapping(rules).apply``.

    .venv/bin/python -m benchmarks.mapping

100,000 flat records (a CSV of contacts, as the Files connector yields them) mapped into
Constant Contact's nested create shape, exactly as the run engine applies a transformation:

* path-only: 12 rules - source paths into nested targets, list items and keyed custom fields,
  plus the constants beside them;
* with expressions: the same plus 5 sandboxed Jinja2 expressions (title case, a split into a
  list, an int conversion, a concatenation, a coalesce).

Also the time to refuse each hostile expression of issue 17.8 (CPU time of this thread, ms):
each must be refused within 1 s, in the web process as in a worker.

Best of 3 runs each. Prints a table and merges the figures into benchmarks/results.json under
"mapping" (read-modify-write under a file lock; other benchmarks own other keys).
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "designer.settings")
django.setup()

from benchmarks.common import merge_results  # noqa: E402
from designer.transformations.mapping import MappingError, compile_mapping  # noqa: E402

RECORDS = 100_000
RUNS = 3

PATH_RULES = [
    {"target": "email_address.address", "kind": "path", "value": "email"},
    {"target": "email_address.permission_to_send", "kind": "constant", "value": "implicit"},
    {"target": "first_name", "kind": "path", "value": "first_name"},
    {"target": "last_name", "kind": "path", "value": "last_name"},
    {"target": "company_name", "kind": "path", "value": "company"},
    {"target": "job_title", "kind": "path", "value": "title"},
    {"target": "phone_numbers.0.phone_number", "kind": "path", "value": "phone"},
    {"target": "phone_numbers.0.kind", "kind": "constant", "value": "home"},
    {"target": "street_addresses.0.street", "kind": "path", "value": "street"},
    {"target": "street_addresses.0.city", "kind": "path", "value": "city"},
    {"target": "street_addresses.0.kind", "kind": "constant", "value": "home"},
    {"target": "custom_fields[custom_field_id=cf-color].value", "kind": "path", "value": "color"},
]
EXPRESSION_RULES = [
    *PATH_RULES[:2],
    {"target": "first_name", "kind": "expression", "value": "first_name | trim | title"},
    {"target": "last_name", "kind": "expression", "value": "coalesce(last_name, 'Unknown')"},
    *PATH_RULES[4:],
    {"target": "list_memberships", "kind": "expression", "value": "lists | split(',')"},
    {"target": "birthday_month", "kind": "expression", "value": "month | to_int"},
    {"target": "notes.0.content", "kind": "expression", "value": "first_name ~ ' ' ~ last_name"},
]


def make_records(n: int) -> list[dict[str, str]]:
    return [
        {
            "email": f"user{i}@example.com",
            "first_name": f"first{i % 997}",
            "last_name": f"Last{i % 991}",
            "company": "Acme Inc.",
            "title": "Engineer",
            "phone": f"555-{i % 10000:04d}",
            "street": f"{i % 500} Main St",
            "city": "Springfield",
            "color": ("red", "green", "blue")[i % 3],
            "lists": "list-a,list-b",
            "month": str(i % 12 + 1),
        }
        for i in range(n)
    ]


def measure(rules: list[dict[str, Any]], records: list[dict[str, str]]) -> dict[str, Any]:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        mapping = compile_mapping(rules)  # cached after the first run, as in a real run
        apply = mapping.apply
        for record in records:
            apply(record)
        best = min(best, time.perf_counter() - started)
    sample = compile_mapping(rules).apply(records[1])
    return {
        "rules": len(rules),
        "records": len(records),
        "seconds": round(best, 3),
        "records_per_second": int(len(records) / best),
        "sample_output": sample,
    }


HOSTILE = (
    "((9**1000)**1000)**1000",
    "(['a'*100000]*100000)|join",
    "('a'*100000)|replace('', 'b'*100000)",
    "'a'|center(1000000000)",
    "'%01000000000d'|format(1)",
    "'{:>1000000000}'.format(1)",
    "lipsum(100000000)",
    "range(100000)" + "|map('abs')" * 40 + "|sum",  # small but slow: stopped by the deadline
)


def refusals() -> dict[str, float]:
    """Milliseconds (wall clock) to refuse each hostile expression."""
    out = {}
    for source in HOSTILE:
        mapping = compile_mapping([{"target": "t", "kind": "expression", "value": source}])
        started = time.perf_counter()
        try:
            mapping.apply({})
        except MappingError:
            pass
        else:
            raise AssertionError(f"not refused: {source}")
        out[source] = round((time.perf_counter() - started) * 1000, 1)
    return out


def run() -> dict[str, Any]:
    records = make_records(RECORDS)
    return {
        "path_only_100000": measure(PATH_RULES, records),
        "with_expressions_100000": measure(EXPRESSION_RULES, records),
        "hostile_expression_refused_ms": refusals(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }


def print_table(figures: dict[str, Any]) -> None:
    print(f"{'mapping':<28} {'rules':>6} {'records':>9} {'seconds':>8} {'records/s':>11}")
    for name in ("path_only_100000", "with_expressions_100000"):
        f = figures[name]
        print(
            f"{name:<28} {f['rules']:>6} {f['records']:>9,} {f['seconds']:>8} "
            f"{f['records_per_second']:>11,}"
        )
    for source, ms in figures["hostile_expression_refused_ms"].items():
        print(f"refused in {ms:>7.1f} ms: {source[:60]}")


def main() -> int:
    figures = run()
    print_table(figures)
    merge_results("mapping", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
