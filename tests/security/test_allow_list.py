"""The base-URL allow-list holds end to end: a connection pointed at a host that is not on
CONNECTOR_URL_ALLOW_LIST (API base, token or sign-in URL) is refused at save, at Test, at
"Connect" and in a run, and the host never receives a request.

Client-level checks (tests/connectors/constant_contact/test_client.py,
test_http_helpers.py) cover the helpers; redirects are never followed
(test_client.py, "redirects are not followed").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from connectors.config import configure, connector_settings
from designer.design.models import Connection
from designer.runs import engine
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import UserFactory
from tests.security.world import build_world

pytestmark = pytest.mark.django_db


class Canary:
    def __init__(self) -> None:
        self.hits: list[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                canary.hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    found = Canary()
    yield found
    found.close()


@contextmanager
def allow_only(url: str):
    before = connector_settings().url_allow_list
    configure(url_allow_list=(url,))
    try:
        yield
    finally:
        configure(url_allow_list=before)


@pytest.mark.parametrize("field", ["api_base_url", "token_url", "authorize_url"])
def test_a_host_off_the_allow_list_gets_no_request(field, canary, cc_sandbox, cc_tokens, settings):
    settings.RUNS_HEARTBEAT_SECONDS = 60
    admin = UserFactory(username="admin")
    world = build_world(admin=admin, sandbox_url=cc_sandbox.url)
    connection = Connection.objects.get(pk=world.ids["connection_id"])
    path = {"api_base_url": "/v3", "token_url": "/token", "authorize_url": "/authorize"}[field]
    connection.config = {**connection.config, field: canary.url + path}
    connection.save()
    client = Client()
    client.force_login(admin)
    base = f"/projects/{world.project.pk}/connections/{connection.pk}"

    with allow_only(cc_sandbox.url):
        # Test from the connection form.
        tested = client.post(f"{base}/test/", HTTP_HX_REQUEST="true")
        assert tested.status_code == 200
        assert b"not allowed" in tested.content, tested.content[:400]
        # Connect with Constant Contact: no redirect to the off-list sign-in page.
        started = client.post(f"{base}/oauth/start/")
        assert canary.url not in started.get("Location", "")
        # A run that reads from it.
        operation = world.project.operations.get(pk=world.ids["operation_id"])
        cc_sandbox.expire_access_tokens()  # so the token URL would be called too
        run = engine.execute(
            run_id=run_start(operation=operation, trigger=RunTrigger.MANUAL).pk,
            agent_name="inproc@test",
        )
    assert canary.hits == [], canary.hits
    if field == "authorize_url":
        return  # the sign-in page is only used by "Connect"; runs never go there
    assert run.status == RunStatus.ERROR
    assert "not allowed" in run.message, run.message


def test_saving_a_connection_off_the_allow_list_is_refused(canary, cc_sandbox):
    admin = UserFactory(username="admin")
    world = build_world(admin=admin, sandbox_url=cc_sandbox.url)
    connection = Connection.objects.get(pk=world.ids["connection_id"])
    client = Client()
    client.force_login(admin)
    form = client.get(f"/projects/{world.project.pk}/connections/{connection.pk}/")
    assert form.status_code == 200
    with allow_only(cc_sandbox.url):
        response = client.post(
            f"/projects/{world.project.pk}/connections/{connection.pk}/save/",
            {
                "name": connection.name,
                "version": connection.version,
                "client_id": "test-client",
                "auth_method": "oauth",
                "api_base_url": canary.url + "/v3",
                "authorize_url": cc_sandbox.authorize_url,
                "token_url": cc_sandbox.token_url,
            },
            HTTP_HX_REQUEST="true",
        )
    assert b"not allowed" in response.content, response.content[:500]
    connection.refresh_from_db()
    assert canary.url not in str(connection.config)
    assert canary.hits == []
