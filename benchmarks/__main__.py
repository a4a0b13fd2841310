"""`make bench`: run every benchmark module; each prints its table and merges its figures
into benchmarks/results.json under its own key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("constant_contact", "cc_rate", "engine", "mapping", "files")


def main() -> int:
    names = [n for n in ORDER if (HERE / f"{n}.py").exists()]
    names += sorted(
        p.stem
        for p in HERE.glob("*.py")
        if p.stem not in ORDER and not p.stem.startswith("_") and p.stem != "common"
    )
    failed = []
    for name in names:
        print(f"\n=== benchmarks.{name}", flush=True)
        if subprocess.call([sys.executable, "-m", f"benchmarks.{name}"]) != 0:
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
