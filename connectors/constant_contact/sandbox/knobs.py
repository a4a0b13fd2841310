"""Tunable behaviour of the sandbox: the same knobs over Python, HTTP and the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Knobs:
    # Requests per second per API key (client_id); also the bucket's burst size.
    # Constant Contact allows 4/s. 0 turns rate limiting off.
    rate_limit: float = 4.0
    # False: a burst/refill bucket (capacity = rate_limit). True: the strict reading, at most
    # rate_limit calls in ANY sliding second of arrivals (every call counted).
    sliding_window: bool = False
    # Requests per UTC day per API key; 0 turns the quota off.
    daily_quota: int = 10_000
    # Fraction of API calls answered 500/503 at random (seeded RNG).
    error_rate: float = 0.0
    # Share of those random errors that strike after the call's state change: the call is
    # processed, then its answer is lost (0 = all before: nothing processed).
    error_after_share: float = 0.0
    # Seconds added to each API call.
    latency: float = 0.0
    # Access-token lifetime in seconds (Constant Contact: 24 hours).
    token_lifetime: int = 86_400
    # Refresh tokens are single use (Constant Contact's "rotating" setting).
    rotating_refresh_tokens: bool = True
    # Refresh tokens expire after this many seconds unused (Constant Contact: 180 days).
    refresh_token_lifetime: float = 180 * 86_400.0
    # A bulk activity completes after this many seconds or this many status polls,
    # whichever comes first (0 polls = time only).
    activity_seconds: float = 0.5
    activity_polls: int = 2
    # True: a JSON import with any bad row (an unknown column or custom field, a bad value)
    # is refused whole with a 400 naming no line, as a strict Constant Contact does.
    # False: the row fails alone inside the activity (activity_errors).
    strict_import: bool = False
    # Request log length kept in memory.
    request_log_size: int = 100_000

    def update(self, **changes: Any) -> None:
        known = {f.name: f.type for f in fields(self)}
        unknown = set(changes) - set(known)
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            current = getattr(self, name)
            if isinstance(current, bool):
                value = (
                    value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
                )
            elif isinstance(current, int):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"knob {name} must not be negative")
            if name in ("error_rate", "error_after_share") and value > 1:
                raise ValueError(f"{name} is a fraction between 0 and 1")
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
