"""The connection's Test button: one real call, exactly one outcome, never a false success.

Like healthchecks' ``send_test_notification``, a test makes no retries: the user is waiting
and wants to know what happens now. (A 401 may still trigger the one token refresh any call
makes, because a connection whose refresh works *is* connected.)
"""

from __future__ import annotations

from typing import Any

from connectors.base import (
    CheckOutcome,
    CheckResult,
    ConnectionContext,
    ConnectorError,
    NeedsReconnect,
)
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.errors import ApiError
from connectors.constant_contact.settings import config_errors
from connectors.http import NO_RETRY

QUOTA_SPENT = (
    "This API key has used up today's Constant Contact daily quota; calls are allowed again "
    "after 00:00 UTC."
)


def run_test(connection: ConnectionContext, **client_kwargs: Any) -> CheckResult:
    problems = config_errors(connection.config)
    if problems:
        detail = "; ".join(f"{name}: {message}" for name, message in sorted(problems.items()))
        return CheckResult(
            CheckOutcome.INVALID_CONFIG,
            "The connection settings are incomplete or not allowed.",
            detail,
        )
    try:
        client = ConstantContactClient(connection, retry=NO_RETRY, **client_kwargs)
    except ConnectorError as exc:
        return CheckResult(CheckOutcome.INVALID_CONFIG, exc.message, exc.key)
    with client:
        try:
            return _probe(client)
        except NeedsReconnect as exc:
            return CheckResult(CheckOutcome.BAD_CREDENTIALS, exc.message, exc.key)
        except ApiError as exc:
            return _from_api_error(exc)
        except ConnectorError as exc:
            if exc.key == "quota_exceeded":  # counted ahead: the call was never sent
                return CheckResult(CheckOutcome.RATE_LIMITED, QUOTA_SPENT, exc.message)
            if exc.key == "unreachable":
                return CheckResult(
                    CheckOutcome.UNREACHABLE, "Could not reach Constant Contact.", exc.message
                )
            return CheckResult(
                CheckOutcome.UNEXPECTED, "Constant Contact answered unexpectedly.", exc.message
            )


def _probe(client: ConstantContactClient) -> CheckResult:
    """The account's name (account_read, optional), then one contact (contact_data).

    The contacts call is the proof: a token that can read the account but not contacts
    would pass an account-only Test while every run gets 403 (issue 17.2).
    """
    try:
        summary = client.get_json("/account/summary")
    except ApiError as exc:
        if exc.status != 403:
            raise
        summary = None  # no account_read: we can live without the name
    else:
        if not isinstance(summary, dict) or not summary:
            return _unexpected(summary)
    page = client.get_json("/contacts", params={"limit": 1})
    if not isinstance(page, dict) or not isinstance(page.get("contacts"), list):
        return _unexpected(page)
    if summary is None:
        return CheckResult(
            CheckOutcome.CONNECTED,
            "Connected to Constant Contact (the account name needs the account_read scope).",
        )
    name = summary.get("organization_name") or summary.get("encoded_account_id")
    if name:
        return CheckResult(CheckOutcome.CONNECTED, f"Connected to {name}.")
    return CheckResult(CheckOutcome.CONNECTED, "Connected to Constant Contact.")


def _unexpected(body: Any) -> CheckResult:
    return CheckResult(
        CheckOutcome.UNEXPECTED,
        "Constant Contact answered, but not with what its API documents.",
        str(body)[:300],
    )


def _from_api_error(exc: ApiError) -> CheckResult:
    detail = f"{exc.key}: {exc.error_message}" if exc.key else exc.error_message
    # First: the token endpoint's invalid_client comes with a 401 too, but it is the app's
    # credentials (API key / client secret) that are wrong, not the access token.
    if exc.key == "invalid_client" or (exc.status == 400 and exc.key.startswith("invalid_")):
        return CheckResult(
            CheckOutcome.BAD_CREDENTIALS,
            "Constant Contact refused the app credentials (API key / client secret).",
            detail,
        )
    if exc.status == 401:
        return CheckResult(
            CheckOutcome.BAD_CREDENTIALS,
            "Constant Contact refused the access token; reconnect or paste a new one.",
            detail,
        )
    if exc.status == 403:
        return CheckResult(
            CheckOutcome.MISSING_SCOPE,
            "The authorisation lacks the contact_data "
            "scope; reconnect and grant access to contacts.",
            detail,
        )
    if exc.status == 429 and exc.key == "quota_exceeded":
        return CheckResult(CheckOutcome.RATE_LIMITED, QUOTA_SPENT, detail)
    if exc.status == 429:
        return CheckResult(
            CheckOutcome.RATE_LIMITED,
            "Constant Contact is throttling this API key; try again in a moment.",
            detail,
        )
    return CheckResult(CheckOutcome.UNEXPECTED, f"Constant Contact answered {exc.status}.", detail)
