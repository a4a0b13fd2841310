"""A tiny connector for the designer's tests: any connector built from the contract works.

It is real code run for real (no mocks): ``test()`` accepts the API key "good", and the
OAuth2 exchange accepts the code "good-code" with the verifier it was given.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from connectors.base import (
    ActivityType,
    CheckOutcome,
    CheckResult,
    ConnectionContext,
    Connector,
    ConnectorError,
    Field,
    FieldKind,
    Role,
)

ALLOWED_HOSTS = ("https://crm.example",)
CHALLENGES: dict[str, str] = {}  # state -> code_challenge, to check the verifier later


class Query(ActivityType):
    key = "query"
    name = "Query"
    role = Role.SOURCE
    config_fields = (
        Field("limit", "Limit", FieldKind.INTEGER, default=100, min_value=1, max_value=1000),
        Field("fields", "Fields", FieldKind.LIST, help="Fields to fetch."),
        Field("since", "Updated since", FieldKind.DATE, advanced=True),
    )

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        return {
            "type": "object",
            "required": ["email_address"],
            "properties": {
                "email_address": {
                    "type": "object",
                    "description": "The contact's email",
                    "required": ["address"],
                    "properties": {"address": {"type": "string", "format": "email"}},
                },
                "first_name": {"type": "string", "maxLength": 50},
                "list_memberships": {"type": "array", "items": {"type": "string"}},
            },
        }


class Create(ActivityType):
    key = "create"
    name = "Create"
    role = Role.TARGET
    config_fields = (
        Field(
            "list_ids",
            "Lists",
            FieldKind.MULTI_CHOICE,
            required=True,
            choices=(("news", "Newsletter"), ("cust", "Customers")),
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        if len(config.get("list_ids") or ()) > 1 and "cust" in config["list_ids"]:
            return {"list_ids": "Customers can't be combined with other lists."}
        return {}

    def request_schema(self, config: Mapping[str, Any]) -> dict:
        return {
            "type": "object",
            "required": ["email"],
            "properties": {"email": {"type": "string", "description": "Where to write"}},
        }


class Update(Create):
    key = "update"
    name = "Update"


class Delete(ActivityType):
    key = "delete"
    name = "Delete"
    role = Role.TARGET


class FakeCrmConnector(Connector):
    key = "fake_crm"
    name = "Fake CRM"
    description = "A CRM for tests"
    supports_oauth = True
    connection_fields = (
        Field("base_url", "Base URL", FieldKind.URL, required=True, default="https://crm.example"),
        Field("client_id", "Client id", required=True),
        Field("api_key", "API key", FieldKind.SECRET),
        Field("region", "Region", FieldKind.CHOICE, choices=(("eu", "Europe"), ("us", "USA"))),
        Field("timeout", "Timeout", FieldKind.INTEGER, advanced=True, min_value=1),
    )
    activity_types = {"query": Query(), "create": Create(), "update": Update(), "delete": Delete()}

    def validate_connection(self, config: Mapping[str, Any]) -> dict[str, str]:
        url = str(config.get("base_url") or "")
        if not url.startswith(ALLOWED_HOSTS):
            return {"base_url": "This address is not on the allow-list."}
        return {}

    def test(self, connection: ConnectionContext) -> CheckResult:
        key = connection.secrets().get("api_key") or connection.secrets().get("access_token")
        if key in ("good", "token-1"):
            return CheckResult(CheckOutcome.CONNECTED, "Connected to Fake CRM account Acme.")
        return CheckResult(
            CheckOutcome.BAD_CREDENTIALS,
            "Fake CRM refused the credentials.",
            detail='{"error_key": "unauthorized", "error_message": "Unauthorized"}',
        )

    def authorization_url(
        self, connection: ConnectionContext, *, redirect_uri: str, state: str, code_challenge: str
    ) -> str:
        CHALLENGES[state] = code_challenge
        query = urlencode(
            {"state": state, "redirect_uri": redirect_uri, "code_challenge": code_challenge}
        )
        return f"https://crm.example/authorize?{query}"

    def complete_authorization(
        self, connection: ConnectionContext, *, code: str, redirect_uri: str, code_verifier: str
    ) -> None:
        digest = hashlib.sha256(code_verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if code != "good-code" or challenge not in CHALLENGES.values():
            raise ConnectorError("invalid_grant: the code was refused", permanent=True)
        connection.update_secrets(lambda s: {**s, "access_token": "token-1"})
