"""API request: a source whose records come in the body of a POST to the operation's API
trigger (designer/api). The engine gives a triggered run those records instead of reading
its source, so this source is never read during such a run; read() is only reached by a run
started without a request (the Run button, a schedule), and says why that can't work.

The activity names the fields the requests carry, so the mapping editor has a source schema
to map from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connectors.base import (
    ActivityType,
    CheckOutcome,
    CheckResult,
    Connector,
    ConnectorError,
    Field,
    FieldKind,
    Role,
    RunContext,
)

NOT_TRIGGERED = (
    "This operation's source is an API request: its records come in the body of a POST to "
    "the operation's API trigger (run settings, API trigger). Start it that way."
)


class RequestBody(ActivityType):
    key = "request"
    name = "Request body"
    role = Role.SOURCE
    description = "The JSON records (an object or an array of objects) POSTed to the trigger."
    config_fields = (
        Field(
            "fields",
            "Fields",
            FieldKind.LIST,
            help="The fields each record carries, e.g. email, first_name (for the mapping).",
        ),
    )

    def response_schema(self, config: Mapping[str, Any]) -> dict | None:
        names = [str(n).strip() for n in config.get("fields") or [] if str(n).strip()]
        return {
            "type": "object",
            "properties": {
                name: {"type": ["string", "number", "boolean", "null"]} for name in names
            },
            "additionalProperties": True,
        }

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        raise ConnectorError(NOT_TRIGGERED, permanent=True)


class ApiRequestConnector(Connector):
    key = "api_request"
    name = "API request"
    version = "1.0.0"
    description = "Records sent to the operation's API trigger by another system."
    activity_types = {RequestBody.key: RequestBody()}

    def test(self, connection: Any) -> CheckResult:
        return CheckResult(
            CheckOutcome.CONNECTED,
            "Nothing to connect to: requests come to the operations' API trigger URLs.",
        )
