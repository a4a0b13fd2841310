"""A connection's settings as the connector reads them, with Constant Contact's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.config import connector_settings
from connectors.http import url_allowed

DEFAULT_API_BASE_URL = "https://api.cc.email/v3"
DEFAULT_AUTHORIZE_URL = "https://authz.constantcontact.com/oauth2/default/v1/authorize"
DEFAULT_TOKEN_URL = "https://authz.constantcontact.com/oauth2/default/v1/token"
# offline_access is what earns a refresh token; account_read only feeds the Test message.
# campaign_data: the report sources (issue 14).
SCOPES = ("contact_data", "campaign_data", "account_read", "offline_access")

# 4 requests per second per API key (documented). We pace on the strictest reading: at most 4
# calls in ANY sliding second as the server sees arrivals. A call holds its place from its send
# until one window after its answer (its arrival lies in between, whatever the network does),
# plus a margin for clock granularity; starts are spaced 1/4 s so the calls come evenly.
RATE_LIMIT_PER_SECOND = 4
RATE_WINDOW_SECONDS = 1.0
RATE_WINDOW_MARGIN_SECONDS = 0.01
# Refresh the access token this long before it expires, so no call goes out with a token
# that dies in flight: a share of the token's lifetime, at most 5 minutes (a fixed 5 minutes
# would refresh a short-lived token before every call).
REFRESH_MARGIN_SECONDS = 300
REFRESH_MARGIN_FRACTION = 0.1

AUTH_OAUTH = "oauth"
AUTH_TOKEN = "token"
URL_FIELDS = ("api_base_url", "authorize_url", "token_url")
_DEFAULTS = {
    "api_base_url": DEFAULT_API_BASE_URL,
    "authorize_url": DEFAULT_AUTHORIZE_URL,
    "token_url": DEFAULT_TOKEN_URL,
}


@dataclass(frozen=True)
class ConnectionSettings:
    client_id: str
    auth_method: str
    api_base_url: str
    authorize_url: str
    token_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ConnectionSettings:
        def text(name: str, default: str = "") -> str:
            value = config.get(name)
            return str(value).strip() if value not in (None, "") else default

        return cls(
            client_id=text("client_id"),
            auth_method=text("auth_method", AUTH_OAUTH),
            api_base_url=text("api_base_url", DEFAULT_API_BASE_URL).rstrip("/"),
            authorize_url=text("authorize_url", DEFAULT_AUTHORIZE_URL),
            token_url=text("token_url", DEFAULT_TOKEN_URL),
        )


def allowed_origins() -> tuple[str, ...]:
    return (*_DEFAULTS.values(), *connector_settings().url_allow_list)


def config_errors(config: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> problem; {} when the connection settings are usable."""
    settings = ConnectionSettings.from_config(config)
    errors: dict[str, str] = {}
    # A pasted access token works alone; signing in (and renewing tokens) needs the app's key.
    if not settings.client_id and settings.auth_method != AUTH_TOKEN:
        errors["client_id"] = "Enter the API key (client id) of your Constant Contact app."
    if settings.auth_method not in (AUTH_OAUTH, AUTH_TOKEN):
        errors["auth_method"] = "Choose how to authenticate."
    origins = allowed_origins()
    for name in URL_FIELDS:
        url = getattr(settings, name)
        if not url_allowed(url, origins):
            errors[name] = (
                "This address is not allowed: use the Constant Contact default or a host your "
                "administrator put on the allow-list."
            )
    return errors
