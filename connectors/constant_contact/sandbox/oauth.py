"""The OAuth2 authorization server, as Constant Contact runs it at authz.constantcontact.com.

Authorization code flow with optional PKCE (S256 only), auto-consent, and refresh tokens
that are single use when rotation is on: a used refresh token answers `invalid_grant`.
Not thread-safe on its own; the sandbox calls it under its lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from .clock import Clock
from .errors import ApiError, OAuthError
from .knobs import Knobs

KNOWN_SCOPES = frozenset(
    {
        "contact_data",
        "campaign_data",
        "account_read",
        "account_update",
        "offline_access",
        "openid",
        "profile",
    }
)
DEFAULT_SCOPES = ("contact_data", "account_read", "offline_access")
CODE_LIFETIME = 600  # seconds an authorization code stays redeemable
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str] | None  # None: any loopback http(s) URL

    def accepts_redirect(self, uri: str) -> bool:
        if self.redirect_uris is not None:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    expires_at: float


@dataclass
class AccessToken:
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class RefreshToken:
    client_id: str
    scopes: tuple[str, ...]
    used: bool = False
    last_used: float = 0.0  # when last exchanged (sandbox clock): they expire after idling


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class OAuthServer:
    apps: dict[str, App] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)

    def reset(self) -> None:
        for registry in (self.apps, self.codes, self.access_tokens, self.refresh_tokens):
            registry.clear()

    # ------------------------------------------------------------------ apps and tokens

    def register_app(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None
    ) -> App:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        app = App(
            client_id, client_secret, list(redirect_uris) if redirect_uris is not None else None
        )
        self.apps[client_id] = app
        return app

    def issue_tokens(
        self, client_id: str, scopes: tuple[str, ...] | list[str], lifetime: int
    ) -> dict:
        """Mint a token pair directly, as if the user had just consented."""
        if client_id not in self.apps:
            raise KeyError(f"unknown client_id {client_id!r}; register the app first")
        scopes = tuple(scopes)
        unknown = set(scopes) - KNOWN_SCOPES
        if unknown:
            raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
        access = "sbx_at_" + secrets.token_urlsafe(24)
        self.access_tokens[access] = AccessToken(
            client_id, frozenset(scopes), self.clock.time() + lifetime
        )
        answer = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(lifetime),
            "scope": " ".join(scopes),
        }
        # Constant Contact returns a refresh token only when offline_access was granted.
        if "offline_access" in scopes:
            refresh = "sbx_rt_" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = RefreshToken(
                client_id, scopes, last_used=self.clock.time()
            )
            answer["refresh_token"] = refresh
        return answer

    def authenticate(self, authorization: str | None) -> AccessToken:
        """The access token behind an `Authorization: Bearer ...` header, or a 401."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError.of(401, "Unauthorized", "unauthorized")
        token = self.access_tokens.get(authorization[7:].strip())
        if token is None:
            raise ApiError.of(401, "Unauthorized", "unauthorized")
        if token.expires_at <= self.clock.time():
            raise ApiError.of(401, "The access token has expired.", "unauthorized")
        return token

    def expire_access_tokens(self) -> int:
        now = self.clock.time()
        for token in self.access_tokens.values():
            token.expires_at = min(token.expires_at, now - 1)
        return len(self.access_tokens)

    def revoke_refresh_token(
        self, refresh_token: str | None = None, client_id: str | None = None
    ) -> int:
        """Revoke one refresh token, or all of one client's, or all (both None)."""
        doomed = [
            key
            for key, token in self.refresh_tokens.items()
            if (refresh_token is None or key == refresh_token)
            and (client_id is None or token.client_id == client_id)
        ]
        for key in doomed:
            del self.refresh_tokens[key]
        return len(doomed)

    def rotate_refresh_token(self, old: str) -> str:
        """What another worker's refresh does to us: `old` is spent, a new one exists."""
        token = self.refresh_tokens.get(old)
        if token is None or token.used:
            raise KeyError("unknown or already used refresh token")
        token.used = True
        new = "sbx_rt_" + secrets.token_urlsafe(24)
        self.refresh_tokens[new] = RefreshToken(
            token.client_id, token.scopes, last_used=self.clock.time()
        )
        return new

    # ------------------------------------------------------------------ authorize endpoint

    def authorize(self, params: dict[str, str]) -> str:
        """The Location to redirect to (a code, or an OAuth error for the client).

        Raises OAuthError when the client or redirect URI cannot be trusted: per
        RFC 6749 4.1.2.1 those errors must not be redirected.
        """
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        app = self.apps.get(client_id)
        if app is None:
            raise OAuthError(400, "invalid_client", "Unknown client_id.")
        if not redirect_uri or not app.accepts_redirect(redirect_uri):
            raise OAuthError(
                400, "invalid_request", "The redirect_uri is not registered for this client."
            )

        state = params.get("state")

        def redirect_with(**values: str) -> str:
            if state is not None:
                values["state"] = state
            separator = "&" if urlsplit(redirect_uri).query else "?"
            return redirect_uri + separator + urlencode(values)

        if params.get("response_type") != "code":
            return redirect_with(
                error="unsupported_response_type", error_description="response_type must be code."
            )
        if not state:
            return redirect_with(
                error="invalid_request", error_description="The state parameter is required."
            )
        scopes = tuple(params.get("scope", "").split())
        if not scopes:
            return redirect_with(
                error="invalid_scope", error_description="The scope parameter is required."
            )
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            return redirect_with(
                error="invalid_scope", error_description=f"Unknown scope(s): {' '.join(unknown)}."
            )
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if challenge is not None or method is not None:
            if method != "S256":
                return redirect_with(
                    error="invalid_request", error_description="code_challenge_method must be S256."
                )
            if not challenge or not 43 <= len(challenge) <= 128:
                return redirect_with(
                    error="invalid_request",
                    error_description="code_challenge must be 43 to 128 characters.",
                )
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(
            client_id, redirect_uri, scopes, challenge, self.clock.time() + CODE_LIFETIME
        )
        return redirect_with(code=code)

    # ------------------------------------------------------------------ token endpoint

    def _client(self, form: dict[str, str], authorization: str | None) -> tuple[App, bool]:
        """(app, authenticated with its secret). Public PKCE clients may send only client_id."""
        client_id = secret = None
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
                client_id, _, secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError(
                    401, "invalid_client", "Malformed HTTP Basic credentials."
                ) from None
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        app = self.apps.get(client_id or "")
        if app is None:
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        if secret is None:
            return app, False
        if not hmac.compare_digest(secret, app.client_secret):
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        return app, True

    def token(self, form: dict[str, str], authorization: str | None, knobs: Knobs) -> dict:
        grant_type = form.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise OAuthError(
                400,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token.",
            )
        app, confidential = self._client(form, authorization)
        if grant_type == "authorization_code":
            return self._redeem_code(app, confidential, form, knobs.token_lifetime)
        if not confidential:
            raise OAuthError(
                401, "invalid_client", "Refreshing needs the client secret (HTTP Basic)."
            )
        return self._refresh(app, form, knobs)

    def _redeem_code(
        self, app: App, confidential: bool, form: dict[str, str], lifetime: int
    ) -> dict:
        code = self.codes.pop(form.get("code", ""), None)  # single use, even when it fails
        if code is None or code.client_id != app.client_id:
            raise OAuthError(
                400, "invalid_grant", "The authorization code is invalid or was already used."
            )
        if code.expires_at <= self.clock.time():
            raise OAuthError(400, "invalid_grant", "The authorization code has expired.")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(
                400, "invalid_grant", "redirect_uri does not match the authorization request."
            )
        verifier = form.get("code_verifier")
        if code.code_challenge is not None:
            if not verifier:
                raise OAuthError(400, "invalid_request", "code_verifier is required (PKCE).")
            if not hmac.compare_digest(s256(verifier), code.code_challenge):
                raise OAuthError(400, "invalid_grant", "PKCE verification failed.")
        elif not confidential:
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        return self.issue_tokens(app.client_id, code.scopes, lifetime)

    def _refresh(self, app: App, form: dict[str, str], knobs: Knobs) -> dict:
        presented = form.get("refresh_token", "")
        token = self.refresh_tokens.get(presented)
        if token is None or token.client_id != app.client_id:
            raise OAuthError(400, "invalid_grant", "The refresh token is invalid or expired.")
        if token.used:
            raise OAuthError(400, "invalid_grant", "The refresh token was already used.")
        now = self.clock.time()
        if now - token.last_used > knobs.refresh_token_lifetime:
            del self.refresh_tokens[presented]
            raise OAuthError(400, "invalid_grant", "The refresh token has expired.")
        lifetime = knobs.token_lifetime
        if knobs.rotating_refresh_tokens:
            token.used = True
            return self.issue_tokens(app.client_id, token.scopes, lifetime)
        answer = self.issue_tokens(
            app.client_id, tuple(s for s in token.scopes if s != "offline_access"), lifetime
        )
        token.last_used = now
        answer["refresh_token"] = presented
        answer["scope"] = " ".join(token.scopes)
        return answer
