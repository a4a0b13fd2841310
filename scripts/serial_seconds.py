"""Write tests/serial_seconds.json from pytest ``--durations=0`` output of the CI passes.

    pytest ... --durations=0 > pass.log   (one log per pass; later logs don't lower a figure)
    .venv/bin/python scripts/serial_seconds.py pass2.log pass3.log

For each test file of the serial groups (tests/conftest.py): the seconds its tests took
(setup, call and teardown) and how many tests that was. The groups are balanced on these
figures, so they need refreshing only when a worker test file grows or slows a lot.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+)$")
OUT = Path(__file__).resolve().parent.parent / "tests" / "serial_seconds.json"


def read(log: Path) -> dict[str, dict[str, float]]:
    seconds: dict[str, float] = defaultdict(float)
    tests: dict[str, set[str]] = defaultdict(set)
    for line in log.read_text().splitlines():
        match = LINE.match(line.strip())
        if not match or "@processes-" not in match.group(3):
            continue
        test = match.group(3).rsplit("@", 1)[0]
        path = test.split("::", 1)[0]
        seconds[path] += float(match.group(1))
        tests[path].add(test)
    return {p: {"seconds": round(s, 1), "tests": len(tests[p])} for p, s in seconds.items()}


def main(logs: list[str]) -> None:
    merged: dict[str, dict[str, float]] = {}
    for log in logs:
        for path, figures in read(Path(log)).items():
            old = merged.get(path)
            if old is None or figures["seconds"] / figures["tests"] > old["seconds"] / old["tests"]:
                merged[path] = figures
    OUT.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
    print(f"{len(merged)} files -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
