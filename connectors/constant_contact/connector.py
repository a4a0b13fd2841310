"""The Constant Contact V3 connector: connection fields, Test, OAuth2 and activities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from connectors.base import (
    CheckResult,
    ConnectionContext,
    Connector,
    ConnectorError,
    Field,
    FieldKind,
)
from connectors.constant_contact.activities import ACTIVITY_TYPES
from connectors.constant_contact.auth import TokenManager, authorization_url
from connectors.constant_contact.client import calls_today
from connectors.constant_contact.connection_test import run_test
from connectors.constant_contact.pickers import known_objects, picker_options
from connectors.constant_contact.settings import (
    AUTH_OAUTH,
    AUTH_TOKEN,
    DEFAULT_API_BASE_URL,
    DEFAULT_AUTHORIZE_URL,
    DEFAULT_TOKEN_URL,
    ConnectionSettings,
    config_errors,
)

CONNECTION_FIELDS = (
    Field(
        "client_id",
        "API key (client ID)",
        max_length=200,
        help="From your app at app.constantcontact.com (My Applications). Needed to connect "
        "with Constant Contact and to renew tokens; not with a pasted access token alone.",
    ),
    Field(
        "client_secret",
        "Client secret",
        FieldKind.SECRET,
        help="Needed to connect with Constant Contact and to refresh tokens.",
    ),
    Field(
        "auth_method",
        "Authentication",
        FieldKind.CHOICE,
        required=True,
        default=AUTH_OAUTH,
        choices=(
            (AUTH_OAUTH, "Connect with Constant Contact"),
            (AUTH_TOKEN, "Paste an access token"),
        ),
    ),
    Field(
        "access_token",
        "Access token",
        FieldKind.SECRET,
        help="Only when pasting a token; connecting fills it in for you.",
    ),
    Field(
        "refresh_token",
        "Refresh token",
        FieldKind.SECRET,
        help="Optional with a pasted token: lets the connection renew it.",
    ),
    Field(
        "api_base_url", "API base URL", FieldKind.URL, default=DEFAULT_API_BASE_URL, advanced=True
    ),
    Field(
        "authorize_url",
        "Authorization URL",
        FieldKind.URL,
        default=DEFAULT_AUTHORIZE_URL,
        advanced=True,
    ),
    Field("token_url", "Token URL", FieldKind.URL, default=DEFAULT_TOKEN_URL, advanced=True),
)


class ConstantContactConnector(Connector):
    key = "constant_contact"
    name = "Constant Contact"
    version = "1.0.0"
    description = (
        "Contacts in Constant Contact (V3 API): query, create, update, delete; lists, tags, "
        "custom fields, segments and memberships."
    )
    icon = "img/connectors/constant_contact.svg"
    supports_oauth = True
    oauth_choice = ("auth_method", AUTH_OAUTH)
    connection_fields = CONNECTION_FIELDS
    activity_types = ACTIVITY_TYPES

    def validate_connection(self, config: Mapping[str, Any]) -> dict[str, str]:
        return config_errors(config)

    def usage(self, config: Mapping[str, Any]) -> str:
        used, quota = calls_today(config)
        return f"today: {used:,} of {quota:,} calls" if quota else f"today: {used:,} calls"

    def test(self, connection: ConnectionContext) -> CheckResult:
        return run_test(connection)

    def picker_options(self, connection: ConnectionContext, kind: str) -> list[tuple[str, str]]:
        return picker_options(connection, kind)

    def known_objects(self, connection: ConnectionContext, kind: str) -> set[str]:
        return known_objects(connection, kind)

    def authorization_url(
        self, connection: ConnectionContext, *, redirect_uri: str, state: str, code_challenge: str
    ) -> str:
        self._require_valid(connection)
        return authorization_url(
            ConnectionSettings.from_config(connection.config),
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=code_challenge,
        )

    def complete_authorization(
        self, connection: ConnectionContext, *, code: str, redirect_uri: str, code_verifier: str
    ) -> None:
        self._require_valid(connection)
        with requests.Session() as session:
            manager = TokenManager(
                connection, ConnectionSettings.from_config(connection.config), session
            )
            manager.exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)

    @staticmethod
    def _require_valid(connection: ConnectionContext) -> None:
        problems = config_errors(connection.config)
        if problems:
            raise ConnectorError(
                "; ".join(f"{k}: {v}" for k, v in sorted(problems.items())),
                permanent=True,
                key="invalid_config",
            )
