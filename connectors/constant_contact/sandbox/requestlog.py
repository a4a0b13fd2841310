"""What the sandbox was asked and what it answered, for tests to count and re-validate."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    timestamp: float  # when the request arrived (the sandbox clock, epoch seconds)
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    status: int
    client_id: str | None
    content_type: str | None
    json: Any  # the decoded JSON body, or None
    fault: str = ""  # "before" / "after" when an injected or random fault answered the call

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self, size: int = 100_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=size)
        self._seq = 0

    def add(self, **fields: Any) -> LoggedRequest:
        self._seq += 1
        entry = LoggedRequest(seq=self._seq, **fields)
        self._entries.append(entry)
        return entry

    def entries(self, since: int = 0) -> list[LoggedRequest]:
        return [e for e in self._entries if e.seq > since]

    def resize(self, size: int) -> None:
        if size != self._entries.maxlen:
            self._entries = deque(self._entries, maxlen=size)

    def clear(self) -> None:
        self._entries.clear()
