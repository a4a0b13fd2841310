"""Secrets planted in connections and variables never come back out: not in any page of the
project or the console, not in the export, the failed-records download, run logs, debug
samples, audit entries, any other database column, nor in the application's log output.

The scan follows real traffic: a debug-logged run against the sandbox that has to refresh
its token mid-run (so the token exchange, which carries the client secret and the refresh
token, happens and is sampled), and a connection Test.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from connectors.config import configure, connector_settings
from designer.api.tokens import token_create
from designer.api.triggers import trigger_save
from designer.crypto import decrypt_json, encrypt_json
from designer.design import operations as step_services
from designer.design.models import Connection
from designer.runs import engine
from designer.runs.models import RunResponse, RunTrigger
from designer.runs.services import run_start
from tests.factories import UserFactory
from tests.fixtures.urls import walk
from tests.security.world import SECRETS, World, build_world, project_pages

pytestmark = pytest.mark.django_db

CLIENT_ID = "planted-client"
# Columns that hold secrets encrypted (their ciphertext is scanned too: the plain value
# must not be there).
ENCRYPTED = {"secrets_encrypted", "value_encrypted"}
# A value a record carries under secret-looking names (see RESPONSE_SCRIPT): it exists only
# at run time, in the records the run answers with, where the ledger must mask it.
RESPONSE_SECRET = "PLANTED-response-field-3b7e11"
# Built from two halves, so the step's stored script doesn't hold the planted value itself.
RESPONSE_SCRIPT = (
    'access_token = "PLANTED-response-" ~ "field-3b7e11"\nauthorization = "Bearer " ~ access_token'
)


@contextmanager
def allow(url: str):
    before = connector_settings().url_allow_list
    configure(url_allow_list=(url,))
    try:
        yield
    finally:
        configure(url_allow_list=before)


def _leaks(text: str, secrets: Iterable[str]) -> list[str]:
    return [s for s in secrets if s and s in text]


def _database_text() -> str:
    """Every row of every model of ours, encrypted columns included, as one string."""
    chunks = []
    for model in apps.get_models():
        if model._meta.app_label not in {
            "projects",
            "accounts",
            "notifications",
            "api",
            "design",
            "transformations",
            "runs",
            "console",
            "audit",
            "django_celery_beat",
        }:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.values_list(*names):
            chunks.append(f"{model._meta.label} " + json.dumps(row, default=str))
    return "\n".join(chunks)


def _planted_world(cc_sandbox, admin) -> tuple[World, list[str]]:
    cc_sandbox.register_app(CLIENT_ID, SECRETS["client_secret"])
    tokens = cc_sandbox.issue_tokens(CLIENT_ID)
    cc_sandbox.seed_contacts(12)
    world = build_world(admin=admin, sandbox_url=cc_sandbox.url)
    connection = Connection.objects.get(pk=world.ids["connection_id"])
    connection.config = {**connection.config, "client_id": CLIENT_ID}
    connection.secrets_encrypted = encrypt_json(
        {
            "client_secret": SECRETS["client_secret"],
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "expires_at": int(time.time()) + 3600,
        }
    )
    connection.save()
    planted = [SECRETS["client_secret"], SECRETS["variable"]]
    planted += [tokens["access_token"], tokens["refresh_token"]]
    return world, planted


def test_planted_secrets_never_come_back_out(cc_sandbox, settings, caplog, tmp_path):
    settings.RUNS_HEARTBEAT_SECONDS = 60  # in-process run: no heartbeat into the test's transaction
    settings.FILES_ROOT = tmp_path / "files"
    caplog.set_level(logging.DEBUG)
    admin = UserFactory(username="admin", is_staff=True)
    world, planted = _planted_world(cc_sandbox, admin)
    connection = Connection.objects.get(pk=world.ids["connection_id"])
    operation = world.project.operations.get(pk=world.ids["operation_id"])
    operation.debug_until = timezone.now() + timedelta(hours=1)
    operation.save()
    client = Client()
    client.force_login(admin)

    # The run answers with its records (a RunResponse, as ?wait=N asks): a script after the
    # target gives each record secret-looking fields, so the response table is scanned too.
    step_services.step_insert(
        operation=operation, user=admin, kind="script", config={"script": RESPONSE_SCRIPT}
    )
    planted.append(RESPONSE_SECRET)

    with allow(cc_sandbox.url):
        # A debug-logged run whose access token has expired: the token exchange happens.
        cc_sandbox.expire_access_tokens()
        run = run_start(operation=operation, trigger=RunTrigger.MANUAL, user=admin)
        RunResponse.objects.create(run=run)
        finished = engine.execute(run_id=run.pk, agent_name="inproc@test")
        assert finished is not None
        assert finished.debug and finished.debug_samples.exists()
        token_calls = [r for r in cc_sandbox.requests if r.path.endswith("/token")]
        assert token_calls, "the run was meant to refresh its token"
        # The connection Test, from the connection form.
        test_url = world.url("projects/<int:project_id>/connections/<int:connection_id>/test/")
        tested = client.post(test_url, HTTP_HX_REQUEST="true")
        assert tested.status_code == 200

    # The refreshed pair is secret too.
    connection.refresh_from_db()
    current = decrypt_json(connection.secrets_encrypted)
    planted += [current["access_token"], current["refresh_token"]]

    # API secrets, each used once: a personal token for a call, an HMAC trigger's URL key
    # (its path is logged by Django on the 401) and its signing secret.
    _token, raw_token = token_create(user=admin, name="scan", scopes=["read", "run"])
    _trigger, shown = trigger_save(operation=operation, mode="hmac", user=admin)
    listed = client.get(
        f"/api/v1/projects/{world.project.pk}/runs", HTTP_AUTHORIZATION=f"Bearer {raw_token}"
    )
    assert listed.status_code == 200
    unsigned = client.post(shown.url_path, "[{}]", content_type="application/json")
    assert unsigned.status_code == 401
    planted += [raw_token, shown.url_path.split("/")[-2], shown.signing_secret]
    # The run went through every record (all may fail as duplicates: the queried contacts
    # exist, on_duplicate=fail; a run whose every record failed ends Error).
    assert finished.source_records == finished.done_records == 12, finished.message

    world.ids["run_id"] = finished.pk  # every run URL shows the real, debug-logged run
    pages = project_pages(client, world)
    for route, _pattern in walk():
        if route.startswith("console/"):
            url = "/" + route.replace("<int:run_id>", str(finished.pk))
            response = client.get(url)
            if response.status_code == 200:
                pages[url] = response.content.decode("utf-8", "replace")
    pages["/account/api-tokens/"] = client.get("/account/api-tokens/").content.decode()
    run_page = f"/projects/{world.project.pk}/runs/{finished.pk}/"
    assert len(pages) >= 25, sorted(pages)
    assert any("export" in url for url in pages), "the export was scanned"
    assert "Debug samples" in pages[run_page]
    # Every record reached the end of the chain and was kept, its secret fields masked.
    response = RunResponse.objects.get(run=finished)
    assert response.count == len(response.records) == 12 and not response.truncated
    assert 'id="run-response"' in pages[run_page] and "access_token" in pages[run_page]

    for url, text in pages.items():
        assert _leaks(text, planted) == [], f"secret rendered in {url}"
    assert _leaks(_database_text(), planted) == [], "secret stored in clear in the database"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) > 0
    assert _leaks(logged, planted) == [], "secret in the application log"
    assert {r["access_token"] for r in response.records} == {"[redacted]"}
    assert {r["authorization"] for r in response.records} == {"[redacted]"}
