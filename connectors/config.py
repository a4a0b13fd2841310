"""Deployment-level settings that connectors need, set once by the app at start-up.

Connectors never import Django; the Django app calls ``configure`` from its AppConfig.ready()
with values from settings, and tests or benchmarks may call it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ConnectorSettings:
    # Redis URL for limits shared by every worker of a deployment; "" = in-process limits.
    redis_url: str = ""
    # Base URLs (scheme://host[:port]) a connection may point at besides a connector's own
    # defaults; anything else is refused, so a connection can't be used for SSRF.
    url_allow_list: tuple[str, ...] = ()
    http_timeout: float = 30.0
    # A folder shared by the worker processes of one machine, for rate-limit slots and daily
    # call counts when there is no Redis ("" = this process only). The app hands in one under
    # VAR_DIR; connectors never import Django.
    state_dir: str = ""
    # Constant Contact calls per API key per UTC day (its documented quota is 10,000); runs
    # stop before sending a call past it. 0 = count, but never stop.
    constant_contact_daily_quota: int = 10_000
    # Tests only: rate-limit windows and spacing divided by this, so worker processes started
    # by the tests send at N times the documented rate. 1 everywhere else.
    rate_limit_speedup: float = 1.0
    # Tests only: retry backoff waits divided by this (the tests' worker processes retry a
    # fault sooner; the tries are the same). 1 everywhere else.
    retry_speedup: float = 1.0


_current = ConnectorSettings()


def configure(**changes: object) -> ConnectorSettings:
    global _current
    _current = replace(_current, **changes)  # type: ignore[arg-type]
    return _current


def connector_settings() -> ConnectorSettings:
    return _current
