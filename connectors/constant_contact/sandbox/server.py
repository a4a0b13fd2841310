"""The sandbox as an HTTP server, and `Sandbox`, its Python handle for tests and tools.

with Sandbox(seed=300) as sandbox:
    sandbox.register_app("my-client", "my-secret")
    tokens = sandbox.issue_tokens("my-client")
    requests.get(sandbox.api_base_url + "/contacts",
                 headers={"Authorization": f"Bearer {tokens['access_token']}"})
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .clock import Clock
from .control import handle_control
from .oauth import DEFAULT_SCOPES
from .requestlog import LoggedRequest
from .service import AUTHORIZE_PATH, TOKEN_PATH, Response, SandboxService

MAX_BODY = 16 * 1024 * 1024  # well above the 4 MB import limit, so that limit can be tested


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], service: SandboxService) -> None:
        self.service = service
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out (as fault-injection tests make them) hang up mid-answer;
        # that is expected, not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, which clients with sessions (requests, the
    # connector) rely on for speed; every response therefore carries Content-Length.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the client's delayed
    # ACK adds ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: _Server
    server_version = "ConstantContactSandbox/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces stderr chatter

    def _too_large(self) -> None:
        error = {
            "error_key": "payload_too_large",
            "error_message": "The request body is too large.",
        }
        self._send(Response(413, [error]), close=True)

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None after answering 413."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._too_large()
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        # Clients streaming a generator send chunks; leaving them unread would corrupt
        # the next request on this keep-alive connection.
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                self._too_large()
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        service = self.server.service
        if self.path.startswith("/_sandbox/"):
            response = handle_control(service, self.command, self.path, body)
        else:
            response = service.handle(self.command, self.path, self.headers, body)
        if response.drop:  # an injected fault: hang up without a status line
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response, close: bool = False) -> None:
        payload = response.encoded()
        self.send_response(response.status)
        if response.body is not None or response.raw is not None:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


class Sandbox:
    """A local Constant Contact V3 server. Knobs: see `Knobs`; all are also `configure()`-able."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        rate_limit: float = 4.0,
        error_rate: float = 0.0,
        latency: float = 0.0,
        token_lifetime: int = 86_400,
        rng_seed: int = 1,
        apps: Iterable[tuple[str, str]] = (),
        clock: Clock | None = None,
        **knobs: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.service = SandboxService(
            seed=seed,
            rng_seed=rng_seed,
            apps=apps,
            clock=clock,
            rate_limit=rate_limit,
            error_rate=error_rate,
            latency=latency,
            token_lifetime=token_lifetime,
            **knobs,
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self.service)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"cc-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI); returns after `stop()` from elsewhere."""
        self._server = _Server((self.host, self.port), self.service)
        self.port = self._server.server_address[1]
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def clock(self) -> Clock:
        """The sandbox's time: ``freeze()`` and ``advance(seconds)`` instead of sleeping (tests);
        ``reset()`` makes it real again."""
        return self.service.clock

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return self.url + "/v3"

    @property
    def authorize_url(self) -> str:
        return self.url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    # ------------------------------------------------------------------ controls

    def register_app(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None
    ) -> None:
        """redirect_uris=None accepts any loopback http(s) redirect URI."""
        self.service.register_app(client_id, client_secret, redirect_uris)

    def issue_tokens(
        self, client_id: str, scopes: Iterable[str] = DEFAULT_SCOPES
    ) -> dict[str, Any]:
        """A token response as if the user had consented (refresh token with offline_access)."""
        return self.service.issue_tokens(client_id, scopes)

    def seed_contacts(self, n: int, lists: Iterable[str] | None = None) -> int:
        return self.service.seed_contacts(n, lists)

    def configure(self, **knobs: Any) -> dict[str, Any]:
        return self.service.configure(**knobs)

    @property
    def knobs(self) -> dict[str, Any]:
        return self.service.knobs.as_dict()

    def reset(self) -> None:
        self.service.reset()

    def inject(
        self,
        status: int,
        count: int = 1,
        path_prefix: str | None = None,
        delay: float = 0,
        when: str = "before",
        drop: bool = False,
    ) -> None:
        """Answer the next `count` API calls under `path_prefix` with `status` (0: delay only).

        ``when="after"``: the calls are processed first, then their answers are replaced by
        `status` (a lost answer: the client cannot tell the call took effect).
        ``drop=True``: no answer at all, the connection is closed (status ignored).
        """
        self.service.inject(status, count, path_prefix, delay, when, drop)

    def expire_access_tokens(self) -> int:
        return self.service.expire_access_tokens()

    def revoke_refresh_token(
        self, refresh_token: str | None = None, client_id: str | None = None
    ) -> int:
        return self.service.revoke_refresh_token(refresh_token, client_id)

    def rotate_refresh_token(self, old: str) -> str:
        return self.service.rotate_refresh_token(old)

    # ------------------------------------------------------------------ inspection

    @property
    def requests(self) -> list[LoggedRequest]:
        return self.service.requests()

    def requests_since(self, seq: int) -> list[LoggedRequest]:
        return self.service.requests(seq)

    def api_requests(self) -> list[LoggedRequest]:
        """Logged calls to the V3 API only (not OAuth2)."""
        return [r for r in self.service.requests() if r.path.startswith("/v3/")]

    def stats(self) -> dict[str, Any]:
        return self.service.stats()

    def rate_measured(self) -> dict[str, Any]:
        """Per API key: calls, the most in any sliding second, the 429s answered."""
        return self.service.rate_measured()

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        return self.service.contact(contact_id)

    def contact_by_email(self, address: str) -> dict[str, Any] | None:
        return self.service.contact_by_email(address)

    @property
    def contacts(self) -> list[dict[str, Any]]:
        """Every live contact with all sub-resources, in creation order (copies)."""
        return self.service.all_contacts()

    def all_contacts(self, include_deleted: bool = False) -> list[dict[str, Any]]:
        return self.service.all_contacts(include_deleted)

    @property
    def lists(self) -> list[dict[str, Any]]:
        return self.service.lists()

    def list_id(self, name: str) -> str:
        return next(x["list_id"] for x in self.service.lists() if x["name"] == name)

    @property
    def custom_fields(self) -> list[dict[str, Any]]:
        return self.service.custom_fields()

    @property
    def tags(self) -> list[dict[str, Any]]:
        return self.service.tags()

    def tag_id(self, name: str) -> str:
        return next(t["tag_id"] for t in self.service.tags() if t["name"] == name)
