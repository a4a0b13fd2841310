"""The /_sandbox/ HTTP controls other processes use, the request log, and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from connectors.constant_contact import contract
from connectors.constant_contact.sandbox import Sandbox
from tests.fixtures.sandbox import CC_CLIENT_ID
from tests.sandbox.helpers import Api

REPO = Path(__file__).resolve().parents[2]


def control(sandbox: Sandbox, method: str, name: str, **kwargs: object) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/_sandbox/{name}", timeout=5, **kwargs)


def test_http_controls_drive_a_whole_scenario(cc_sandbox: Sandbox) -> None:
    assert control(cc_sandbox, "POST", "reset").status_code == 200
    created = control(cc_sandbox, "POST", "apps", json={"client_id": "bench", "client_secret": "s"})
    assert created.status_code == 201
    tokens = control(cc_sandbox, "POST", "tokens", json={"client_id": "bench"}).json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    seeded = control(cc_sandbox, "POST", "seed", json={"contacts": 25, "lists": ["Newsletter"]})
    assert seeded.json()["added"] == 25
    knobs = control(cc_sandbox, "POST", "configure", json={"rate_limit": 0, "latency": 0}).json()
    assert knobs["rate_limit"] == 0

    api = Api(cc_sandbox, tokens["access_token"])
    assert len(api.get("/contacts", params={"limit": 100}).json()["contacts"]) == 25
    assert (
        control(cc_sandbox, "POST", "faults", json={"status": 500, "count": 1}).status_code == 201
    )
    assert api.get("/contacts").status_code == 500

    expired = control(cc_sandbox, "POST", "faults", json={"action": "expire_access_tokens"})
    assert expired.json()["expired"] >= 1
    assert api.get("/contacts").status_code == 401

    rotated = control(
        cc_sandbox,
        "POST",
        "faults",
        json={"action": "rotate_refresh_token", "refresh_token": tokens["refresh_token"]},
    ).json()["refresh_token"]
    assert rotated != tokens["refresh_token"]

    stats = control(cc_sandbox, "GET", "stats").json()
    assert stats["contacts"]["live"] == 25
    assert stats["statuses"]["500"] == 1 and stats["statuses"]["401"] == 1
    assert "bench" in stats["apps"]

    log = control(cc_sandbox, "GET", "requests").json()["requests"]
    assert [entry["status"] for entry in log] == [200, 500, 401]
    later = control(cc_sandbox, "GET", "requests", params={"since": log[0]["seq"]}).json()
    assert len(later["requests"]) == 2


def test_http_controls_reject_bad_input(cc_sandbox: Sandbox) -> None:
    assert control(cc_sandbox, "POST", "configure", json={"warp_speed": 9}).status_code == 400
    assert control(cc_sandbox, "POST", "configure", json={"error_rate": 2}).status_code == 400
    assert control(cc_sandbox, "POST", "tokens", json={"client_id": "ghost"}).status_code == 400
    assert (
        control(cc_sandbox, "POST", "faults", json={"status": 500, "count": 0}).status_code == 400
    )
    assert control(cc_sandbox, "GET", "nothing").status_code == 404


def test_request_log_records_calls_and_every_successful_call_meets_the_contract(
    cc_sandbox: Sandbox, api: Api
) -> None:
    cc_sandbox.seed_contacts(5)
    newsletter = cc_sandbox.list_id("Newsletter")
    api.get("/contacts", params={"limit": 2, "include": "taggings"})
    api.post(
        "/contacts",
        json={"email_address": {"address": "log@example.com"}, "create_source": "Account"},
    )
    api.post("/contacts", json={"create_source": "Account", "bogus": {"x": 1}, "first_name": 5})
    api.post(
        "/activities/contacts_json_import",
        json={"import_data": [{"email": "i@example.com"}], "list_ids": [newsletter]},
    )
    entries = cc_sandbox.api_requests()
    assert [(e.method, e.path, e.status) for e in entries] == [
        ("GET", "/v3/contacts", 200),
        ("POST", "/v3/contacts", 201),
        ("POST", "/v3/contacts", 400),
        ("POST", "/v3/activities/contacts_json_import", 201),
    ]
    assert entries[0].query == {"limit": ["2"], "include": ["taggings"]}
    assert entries[1].json == {
        "email_address": {"address": "log@example.com"},
        "create_source": "Account",
    }
    assert entries[1].content_type == "application/json"
    assert {e.client_id for e in entries} == {CC_CLIENT_ID}
    assert entries[0].timestamp <= entries[-1].timestamp
    for entry in entries:
        problems = contract.validate_request(
            entry.method, entry.path, entry.query, entry.json, entry.content_type
        )
        assert (problems == []) == (entry.status < 400), (entry, problems)


def test_refused_calls_are_logged_with_their_body(cc_sandbox: Sandbox) -> None:
    body = {"email_address": {"address": "anon@example.com"}, "create_source": "Account"}
    response = requests.post(cc_sandbox.api_base_url + "/contacts", json=body, timeout=5)
    assert response.status_code == 401
    (entry,) = cc_sandbox.api_requests()
    assert (entry.status, entry.client_id, entry.json) == (401, None, body)


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connectors.constant_contact.sandbox",
            "--port",
            "0",
            "--seed",
            "12",
            "--rate-limit",
            "0",
            "--app",
            "cli-client:cli-secret",
            "--app",
            "second:two",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        banner = process.stdout.readline()
        assert "http://127.0.0.1:" in banner, process.stderr.read()
        url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        stats = requests.get(f"{url}/_sandbox/stats", timeout=5).json()
        assert stats["contacts"]["live"] == 12
        assert stats["apps"] == ["cli-client", "second"]
        assert stats["knobs"]["rate_limit"] == 0
        token = requests.post(
            f"{url}/_sandbox/tokens", json={"client_id": "cli-client"}, timeout=5
        ).json()["access_token"]
        contacts = requests.get(
            f"{url}/v3/contacts", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert len(contacts.json()["contacts"]) == 12
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
