"""Files connector: CSV read throughput and peak memory on 1,000,000 rows.

    .venv/bin/python -m benchmarks.files

Writes a CSV of 1,000,000 contacts (8 columns, about 100 MB) to a temporary folder and reads
it through the Files connector's Read activity in batches of 1,000, as a run would:

* throughput: rows per second, best of 2 reads, no tracing;
* memory: peak traced Python memory (tracemalloc) while reading 100,000 rows and while
  reading all 1,000,000 - streaming means the two are about equal - and the process's peak
  RSS, against the file's size;
* JSON array and JSON Lines read of 1,000,000 records: rows per second and peak traced memory;
* CSV write throughput: the same rows written back through the Write activity.

Prints a table and merges the figures into benchmarks/results.json under "files".
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import merge_results, traced_peak
from connectors.base import MemoryConnection, RunContext
from connectors.files.connector import FilesConnector

ROWS = 1_000_000
SMALL = 100_000
BATCH = 1000
HEADER = "email,first_name,last_name,company,phone,city,postal_code,lists\n"


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        chunk = []
        for i in range(rows):
            chunk.append(
                f'user{i}@example.com,First{i % 997},Last{i % 991},"Acme, Inc.",'
                f'555-{i % 10000:04d},Springfield,{10000 + i % 89999},"list-a,list-b"\n'
            )
            if len(chunk) == 10_000:
                out.writelines(chunk)
                chunk = []
        out.writelines(chunk)


def write_json(path: Path, rows: int, *, lines: bool) -> None:
    with open(path, "w", encoding="utf-8") as out:
        if not lines:
            out.write("[\n")
        chunk = []
        for i in range(rows):
            item = json.dumps(
                {
                    "email": f"user{i}@example.com",
                    "first_name": f"First{i % 997}",
                    "address": {"city": "Springfield", "postal_code": str(10000 + i % 89999)},
                    "lists": ["list-a", "list-b"],
                }
            )
            sep = "\n" if lines else (",\n" if i < rows - 1 else "\n")
            chunk.append(item + sep)
            if len(chunk) == 10_000:
                out.writelines(chunk)
                chunk = []
        out.writelines(chunk)
        if not lines:
            out.write("]\n")


def context(folder: Path, run_id: str = "bench") -> RunContext:
    return RunContext(connection=MemoryConnection(extras={"folder": str(folder)}), run_id=run_id)


def read_rows(folder: Path, name: str) -> int:
    read = FilesConnector().activity_type("read")
    count = 0
    for batch in read.read(context(folder), {"file_name": name, "batch_size": BATCH}):
        count += len(batch)
    return count


def read_peak_mb(folder: Path, name: str) -> float:
    """Peak traced memory, in MB, of reading the file through."""
    return traced_peak(lambda: read_rows(folder, name))[1] / 2**20


def run() -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-files-"))
    try:
        write_csv(folder / "big.csv", ROWS)
        write_csv(folder / "small.csv", SMALL)
        size = (folder / "big.csv").stat().st_size
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            assert read_rows(folder, "big.csv") == ROWS
            best = min(best, time.perf_counter() - started)
        peak_small = read_peak_mb(folder, "small.csv")
        peak_big = read_peak_mb(folder, "big.csv")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux

        json_figures = {}
        for name, lines in (("contacts.json", False), ("contacts.jsonl", True)):
            write_json(folder / name, ROWS, lines=lines)
            started = time.perf_counter()
            assert read_rows(folder, name) == ROWS
            seconds = time.perf_counter() - started
            json_figures[name] = {
                "rows": ROWS,
                "file_mb": round((folder / name).stat().st_size / 2**20, 1),
                "seconds": round(seconds, 2),
                "rows_per_second": int(ROWS / seconds),
                "peak_traced_mb": round(read_peak_mb(folder, name), 2),
            }
            (folder / name).unlink()

        read = FilesConnector().activity_type("read")
        write = FilesConnector().activity_type("write")
        ctx = context(folder, run_id="w")
        started = time.perf_counter()
        written = 0
        for batch in read.read(context(folder), {"file_name": "big.csv", "batch_size": BATCH}):
            results = write.write(ctx, {"file_name": "copy-{run_id}.csv"}, batch)
            written += sum(r.ok for r in results)
        write_seconds = time.perf_counter() - started
        assert written == ROWS
        return {
            "csv_read_1000000": {
                "rows": ROWS,
                "file_mb": round(size / 2**20, 1),
                "seconds": round(best, 2),
                "rows_per_second": int(ROWS / best),
                "mb_per_second": round(size / 2**20 / best, 1),
                "peak_traced_mb_100000_rows": round(peak_small, 2),
                "peak_traced_mb_1000000_rows": round(peak_big, 2),
                "peak_rss_mb_process": round(rss, 1),
            },
            "json_array_read_1000000": json_figures["contacts.json"],
            "json_lines_read_1000000": json_figures["contacts.jsonl"],
            "csv_read_write_copy_1000000": {
                "rows": ROWS,
                "seconds": round(write_seconds, 2),
                "rows_per_second": int(ROWS / write_seconds),
            },
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def print_table(figures: dict[str, Any]) -> None:
    r = figures["csv_read_1000000"]
    print(
        f"CSV read, {r['rows']:,} rows ({r['file_mb']} MB): {r['seconds']} s, "
        f"{r['rows_per_second']:,} rows/s, {r['mb_per_second']} MB/s"
    )
    print(
        f"  peak traced memory: {r['peak_traced_mb_100000_rows']} MB at 100,000 rows, "
        f"{r['peak_traced_mb_1000000_rows']} MB at 1,000,000 rows; "
        f"process peak RSS {r['peak_rss_mb_process']} MB"
    )
    for key, label in (
        ("json_array_read_1000000", "JSON array"),
        ("json_lines_read_1000000", "JSON Lines"),
    ):
        j = figures[key]
        print(
            f"{label} read, {j['rows']:,} rows ({j['file_mb']} MB): {j['seconds']} s, "
            f"{j['rows_per_second']:,} rows/s, peak traced {j['peak_traced_mb']} MB"
        )
    w = figures["csv_read_write_copy_1000000"]
    print(
        f"CSV read + write copy, {w['rows']:,} rows: {w['seconds']} s, "
        f"{w['rows_per_second']:,} rows/s"
    )


def main() -> int:
    figures = run()
    print_table(figures)
    merge_results("files", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
