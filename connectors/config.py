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


_current = ConnectorSettings()


def configure(**changes: object) -> ConnectorSettings:
    global _current
    _current = replace(_current, **changes)  # type: ignore[arg-type]
    return _current


def connector_settings() -> ConnectorSettings:
    return _current
