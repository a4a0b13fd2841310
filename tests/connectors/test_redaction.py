"""One list of secret names for everything kept or shown: run logs and debug samples (values
masked), audit entries and project exports (keys dropped)."""

from __future__ import annotations

import pytest

from connectors.redaction import REDACTED, drop_secrets, redact, redact_for_log

SECRET_NAMES = [
    "client_secret",
    "access_token",
    "refresh_token",
    "password",
    "api_key",
    "API-Key",
    "Authorization",
    "Cookie",
    "Set-Cookie",
    "credential",
    "credentials",
    "secrets_encrypted",
    "code_verifier",
    "code",
]
PLAIN_NAMES = ["email", "postal_code", "auth_method", "authorize_url", "name", "codes"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_every_use_treats_a_secret_name_alike(name):
    value = {"outer": [{name: "s3cr3t-value", "email": "ann@example.com"}]}

    assert redact(value) == {"outer": [{name: REDACTED, "email": "ann@example.com"}]}
    assert redact_for_log(value) == {"outer": [{name: REDACTED, "email": "ann@example.com"}]}
    assert drop_secrets(value) == {"outer": [{"email": "ann@example.com"}]}
    url = f"https://api.example/x?{name}=s3cr3t-value&page=2"
    assert redact_for_log(url) == f"https://api.example/x?{name}={REDACTED}&page=2"


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_plain_names_are_kept_everywhere(name):
    value = {name: "kept"}
    assert redact(value) == redact_for_log(value) == drop_secrets(value) == value


def test_a_flag_under_a_secret_like_name_stays_in_audit_snapshots():
    assert drop_secrets({"is_secret": True, "secret": "x"}) == {"is_secret": True}


def test_known_secret_values_and_bearer_tokens_are_masked_inside_text():
    text = "refused: Bearer eyJhbGciOi.abc and the key at-123456 in the echo"
    assert redact_for_log(text, {"access_token": "at-123456"}) == (
        f"refused: Bearer {REDACTED} and the key {REDACTED} in the echo"
    )
    assert redact("echo at-123456", ("at-123456",)) == f"echo {REDACTED}"


def test_extra_keys_named_by_a_connector_are_dropped_too():
    assert drop_secrets({"pin": "1234", "user": "ann"}, extra_keys=["pin"]) == {"user": "ann"}


def test_drop_secrets_drops_secret_named_keys_at_any_depth_and_keeps_flags():
    value = {
        "base_url": "https://api.cc.email",
        "client_secret": "s3cr3t",
        "nested": {"access_token": "abc", "refresh_token": "def", "keep": 1},
        "list": [{"password": "pw", "name": "x"}],
        "is_secret": True,
        "secrets_encrypted": "gAAAA",
    }
    assert drop_secrets(value) == {
        "base_url": "https://api.cc.email",
        "nested": {"keep": 1},
        "list": [{"name": "x"}],
        "is_secret": True,
    }
