"""Input records: normalising convenience shapes and failing bad ones before any call.

A record that is obviously wrong (no email, an invalid one, a value over the contract's
maxLength) fails on its own with ``error_key="validation"``; the rest of the batch goes on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jsonschema

from connectors.base import RecordResult

# Deliberately loose (Constant Contact has the final word); catches the typical mapping
# mistakes: empty strings, names in the email column, several addresses in one cell.
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z0-9-]{2,}$")
EMAIL_MAX_LENGTH = 80
VALIDATION = "validation"


def email_of(record: Mapping[str, Any]) -> str:
    """The record's email address, whichever shape it came in (object, string, flat)."""
    value = record.get("email_address")
    if isinstance(value, Mapping):
        value = value.get("address")
    if not value:
        value = record.get("email")
    return str(value).strip() if value else ""


def is_email(value: str) -> bool:
    return len(value) <= EMAIL_MAX_LENGTH and bool(EMAIL_RE.match(value))


def clean(record: Mapping[str, Any], *, email_object: bool = True) -> dict[str, Any]:
    """A copy without empty values, with ``email_address`` in the endpoint's shape.

    Mappings leave unmapped target fields as None or ""; sending those would overwrite (PUT)
    or be refused (maxLength/format checks), so they are treated as "not given". Most
    endpoints take the email as an object ``{"address": ...}``; the sign-up form takes a
    string (``email_object=False``). Either shape is accepted on input.
    """
    out = {key: value for key, value in record.items() if value not in (None, "")}
    email = out.get("email_address")
    if isinstance(email, Mapping):
        email = {k: v for k, v in email.items() if v not in (None, "")}
        out["email_address"] = email if email_object else str(email.get("address", "")).strip()
    elif isinstance(email, str):
        out["email_address"] = {"address": email.strip()} if email_object else email.strip()
    return out


def _limit_message(error: jsonschema.exceptions.ValidationError) -> str:
    """Length limits say the limit (and not the whole over-long value, which can be huge)."""
    value, limit = error.instance, error.validator_value
    if error.validator == "maxLength" and isinstance(value, str):
        return f"{len(value)} characters, too long (the maximum is {limit})"
    if error.validator == "minLength" and isinstance(value, str):
        return f"{len(value)} characters, too short (the minimum is {limit})"
    if error.validator == "maxItems" and isinstance(value, list):
        return f"{len(value)} items, too many (the maximum is {limit})"
    return ""


class RecordChecker:
    """Checks records against an activity's request schema, plus the email rule."""

    def __init__(self, schema: dict[str, Any], *, email: str = "required") -> None:
        # email: "required" | "optional" (checked when present) | "ignore"
        self.validator = jsonschema.Draft4Validator(schema)
        self.email = email

    def problem(self, record: Mapping[str, Any]) -> str:
        """One readable problem, or "" when the record may be sent."""
        address = email_of(record)
        if self.email == "required" and not address:
            return "The record has no email address."
        if self.email != "ignore" and address and not is_email(address):
            return f"{address!r} is not a valid email address."
        error = jsonschema.exceptions.best_match(self.validator.iter_errors(dict(record)))
        if error is None:
            return ""
        where = ".".join(str(p) for p in error.absolute_path)
        message = _limit_message(error) or error.message
        return f"{where}: {message}" if where else message

    def failure(self, record: Mapping[str, Any], key: str) -> RecordResult | None:
        problem = self.problem(record)
        if not problem:
            return None
        return RecordResult.failed(key=key, error_key=VALIDATION, error_message=problem)
