"""OAuth2 authorization code + PKCE, refresh rotation, and the token controls."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.constant_contact.sandbox import Sandbox
from tests.fixtures.sandbox import CC_CLIENT_ID, CC_CLIENT_SECRET

REDIRECT_URI = "http://127.0.0.1:8000/oauth/callback"
BASIC = (CC_CLIENT_ID, CC_CLIENT_SECRET)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(sandbox: Sandbox, **overrides: str) -> requests.Response:
    params = {
        "client_id": CC_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "contact_data account_read offline_access",
        "state": "xyz-123",
        **overrides,
    }
    params = {k: v for k, v in params.items() if v is not None}
    return requests.get(sandbox.authorize_url, params=params, allow_redirects=False, timeout=5)


def redirect_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def redeem(sandbox: Sandbox, code: str, verifier: str | None, **extra: str) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    if verifier is not None:
        form["code_verifier"] = verifier
    return requests.post(sandbox.token_url, data=form, auth=BASIC, timeout=5)


def refresh(sandbox: Sandbox, refresh_token: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return requests.post(sandbox.token_url, data=form, auth=BASIC, timeout=5)


def test_code_flow_with_pkce_issues_working_tokens(cc_sandbox: Sandbox) -> None:
    verifier, challenge = pkce_pair()
    params = redirect_params(
        authorize(cc_sandbox, code_challenge=challenge, code_challenge_method="S256")
    )
    assert params["state"] == "xyz-123"  # echoed unchanged

    response = redeem(cc_sandbox, params["code"], verifier)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 86400
    assert set(tokens["scope"].split()) == {"contact_data", "account_read", "offline_access"}
    assert tokens["refresh_token"]
    summary = requests.get(
        cc_sandbox.api_base_url + "/account/summary",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert summary.status_code == 200


def test_wrong_pkce_verifier_is_invalid_grant_and_burns_the_code(cc_sandbox: Sandbox) -> None:
    verifier, challenge = pkce_pair()
    code = redirect_params(
        authorize(cc_sandbox, code_challenge=challenge, code_challenge_method="S256")
    )["code"]
    wrong = redeem(cc_sandbox, code, pkce_pair()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # Codes are single use: even the right verifier cannot redeem it now.
    assert redeem(cc_sandbox, code, verifier).json()["error"] == "invalid_grant"


def test_missing_verifier_when_a_challenge_was_sent_is_rejected(cc_sandbox: Sandbox) -> None:
    _, challenge = pkce_pair()
    code = redirect_params(
        authorize(cc_sandbox, code_challenge=challenge, code_challenge_method="S256")
    )["code"]
    response = redeem(cc_sandbox, code, None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_redirect_uri_must_match_at_redemption(cc_sandbox: Sandbox) -> None:
    verifier, challenge = pkce_pair()
    code = redirect_params(
        authorize(cc_sandbox, code_challenge=challenge, code_challenge_method="S256")
    )["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": "http://127.0.0.1:9999/elsewhere",
    }
    response = requests.post(cc_sandbox.token_url, data=form, auth=BASIC, timeout=5)
    assert response.json()["error"] == "invalid_grant"


def test_plain_pkce_method_is_refused_by_redirect(cc_sandbox: Sandbox) -> None:
    params = redirect_params(
        authorize(cc_sandbox, code_challenge="a" * 43, code_challenge_method="plain")
    )
    assert params["error"] == "invalid_request"
    assert params["state"] == "xyz-123"
    assert "code" not in params


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "contact_data bogus_scope"}, "invalid_scope"),
        ({"state": None}, "invalid_request"),
    ],
)
def test_bad_authorize_requests_redirect_with_an_error(
    cc_sandbox: Sandbox, override: dict, error: str
) -> None:
    assert redirect_params(authorize(cc_sandbox, **override))["error"] == error


def test_unknown_client_or_unregistered_redirect_is_not_redirected(cc_sandbox: Sandbox) -> None:
    unknown = authorize(cc_sandbox, client_id="nobody")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_client"
    outside = authorize(cc_sandbox, redirect_uri="https://evil.example.com/cb")
    assert outside.status_code == 400
    assert "Location" not in outside.headers

    cc_sandbox.register_app("strict", "s3cret", redirect_uris=["https://app.example.com/cb"])
    ok = authorize(cc_sandbox, client_id="strict", redirect_uri="https://app.example.com/cb")
    assert ok.status_code == 302


def test_token_endpoint_requires_the_client_secret(cc_sandbox: Sandbox) -> None:
    refresh_token = cc_sandbox.issue_tokens(CC_CLIENT_ID)["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    wrong = requests.post(cc_sandbox.token_url, data=form, auth=(CC_CLIENT_ID, "nope"), timeout=5)
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    as_json = requests.post(cc_sandbox.token_url, json=form, auth=BASIC, timeout=5)
    assert as_json.status_code == 400  # the token endpoint is form-encoded only


def test_refresh_tokens_rotate_and_reuse_is_invalid_grant(cc_sandbox: Sandbox) -> None:
    first = cc_sandbox.issue_tokens(CC_CLIENT_ID)
    second = refresh(cc_sandbox, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert second.json()["access_token"] != first["access_token"]

    reuse = refresh(cc_sandbox, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert refresh(cc_sandbox, second.json()["refresh_token"]).status_code == 200


def test_rotate_refresh_token_simulates_another_worker(cc_sandbox: Sandbox) -> None:
    tokens = cc_sandbox.issue_tokens(CC_CLIENT_ID)
    newer = cc_sandbox.rotate_refresh_token(tokens["refresh_token"])
    assert refresh(cc_sandbox, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh(cc_sandbox, newer).status_code == 200


def test_revoked_refresh_token_is_invalid_grant(cc_sandbox: Sandbox) -> None:
    tokens = cc_sandbox.issue_tokens(CC_CLIENT_ID)
    assert cc_sandbox.revoke_refresh_token(tokens["refresh_token"]) == 1
    assert refresh(cc_sandbox, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_long_lived_refresh_tokens_when_rotation_is_off(cc_sandbox: Sandbox) -> None:
    cc_sandbox.configure(rotating_refresh_tokens=False)
    tokens = cc_sandbox.issue_tokens(CC_CLIENT_ID)
    for _ in range(2):
        response = refresh(cc_sandbox, tokens["refresh_token"])
        assert response.status_code == 200
        assert response.json()["refresh_token"] == tokens["refresh_token"]


def test_token_lifetime_knob_sets_expires_in(cc_sandbox: Sandbox) -> None:
    cc_sandbox.configure(token_lifetime=60)
    assert cc_sandbox.issue_tokens(CC_CLIENT_ID)["expires_in"] == 60


def test_refreshed_token_keeps_working_after_the_old_access_token_expires(
    cc_sandbox: Sandbox,
) -> None:
    tokens = cc_sandbox.issue_tokens(CC_CLIENT_ID)
    cc_sandbox.expire_access_tokens()
    url = cc_sandbox.api_base_url + "/account/summary"
    old = requests.get(
        url, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5
    )
    assert old.status_code == 401
    new = refresh(cc_sandbox, tokens["refresh_token"]).json()
    fresh = requests.get(url, headers={"Authorization": f"Bearer {new['access_token']}"}, timeout=5)
    assert fresh.status_code == 200


def test_refresh_tokens_expire_after_idling(cc_sandbox: Sandbox) -> None:
    cc_sandbox.clock.freeze()
    cc_sandbox.configure(refresh_token_lifetime=200, rotating_refresh_tokens=False)
    tokens = cc_sandbox.issue_tokens(CC_CLIENT_ID)
    cc_sandbox.clock.advance(100)
    assert refresh(cc_sandbox, tokens["refresh_token"]).status_code == 200  # use: idle from 0
    cc_sandbox.clock.advance(150)
    assert refresh(cc_sandbox, tokens["refresh_token"]).status_code == 200
    cc_sandbox.clock.advance(201)
    idle = refresh(cc_sandbox, tokens["refresh_token"])
    assert idle.status_code == 400
    assert idle.json()["error"] == "invalid_grant"


def test_token_calls_are_logged_with_the_client_id(cc_sandbox: Sandbox) -> None:
    refresh(cc_sandbox, cc_sandbox.issue_tokens(CC_CLIENT_ID)["refresh_token"])
    (entry,) = [r for r in cc_sandbox.requests if r.path == "/oauth2/default/v1/token"]
    assert entry.client_id == CC_CLIENT_ID
    assert entry.json["grant_type"] == "refresh_token"
    assert entry.status == 200
