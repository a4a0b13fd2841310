"""Scripted faults for tests: answer the next N matching calls with a status, or delay them.

A fault strikes ``before`` the call's state change (the call is not processed: what a 429 or
a refused connection means) or ``after`` it (the call is processed, then its answer is lost
and replaced by the fault's status: what a gateway timeout or a dropped connection means to
a client, which cannot tell whether its request took effect). With ``drop`` the fault is
no answer at all: the connection is closed without a status line, as when a network path
or a proxy dies mid-call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

BEFORE, AFTER = "before", "after"
FAULT_TIMINGS = (BEFORE, AFTER)


@dataclass
class Fault:
    status: int  # 0 (or 200) = do not replace the answer, only delay it
    remaining: int
    path_prefix: str | None = None
    delay: float = 0.0
    when: str = "before"  # BEFORE or AFTER the call's state change
    drop: bool = False  # close the connection without answering (status ignored)

    def matches(self, path: str) -> bool:
        if self.path_prefix is None:
            return path.startswith("/v3/")  # API calls only, not OAuth2 or controls
        prefix = self.path_prefix
        # Accept prefixes with or without the /v3 base path.
        return path.startswith(prefix) or path.startswith("/v3" + prefix)


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(
        self,
        status: int,
        count: int,
        path_prefix: str | None = None,
        delay: float = 0,
        when: str = BEFORE,
        drop: bool = False,
    ) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        if status and not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code (or 0 for delay only)")
        if when not in FAULT_TIMINGS:
            raise ValueError("when must be 'before' or 'after' (the call's state change)")
        self._faults.append(
            Fault(int(status), int(count), path_prefix, float(delay), when, bool(drop))
        )

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first fault matching `path` (faults apply in order)."""
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return Fault(
                    fault.status, 1, fault.path_prefix, fault.delay, fault.when, fault.drop
                )
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        self._faults.clear()
