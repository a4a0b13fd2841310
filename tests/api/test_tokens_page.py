"""The user's API tokens page: create (shown once), list with last use, revoke."""

from __future__ import annotations

import re

import pytest

from designer.accounts.services import token_hash
from designer.api.models import ApiToken
from tests.api.conftest import ApiClient
from tests.runs.conftest import make_operation

pytestmark = pytest.mark.django_db

PAGE = "/account/api-tokens/"


def test_the_top_bar_and_run_settings_link_to_the_api_pages(client_for, project):
    operation = make_operation(project)
    client = client_for("editor")
    assert f'href="{PAGE}"' in client.get("/projects/").content.decode()
    settings_page = client.get(f"/projects/{project.pk}/operations/{operation.pk}/run-settings/")
    assert f"/operations/{operation.pk}/api-trigger/" in settings_page.content.decode()


def test_create_shows_the_token_once_stores_its_hash_and_it_works(client_for, project, personas):
    client = client_for("viewer")
    response = client.post(PAGE, {"name": "Nightly CI", "scopes": ["read"]})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = re.search(r'value="(idt_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(user=personas["viewer"])
    assert token.token_hash == token_hash(raw) and raw not in token.token_hash
    assert token.scopes == ["read"]

    listed = client.get(PAGE).content.decode()
    assert "Nightly CI" in listed and token.prefix in listed
    assert raw not in listed
    assert "never" in listed  # not used yet

    assert ApiClient(raw).get(f"/api/v1/projects/{project.pk}").status_code == 200
    assert re.search(
        r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>\s*<td>\s*<form", client.get(PAGE).content.decode()
    )


def test_bad_input_is_explained_and_creates_nothing(client_for):
    client = client_for("viewer")
    response = client.post(PAGE, {"name": "", "scopes": []})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    response = client.post(
        PAGE, {"name": "Old", "scopes": ["read"], "expires_at": "2001-01-01T00:00"}
    )
    assert response.status_code == 400
    assert "must be in the future" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_own_token_only(client_for, personas, token_for, project):
    raw = token_for("viewer")
    token = ApiToken.objects.get(user=personas["viewer"])
    assert client_for("editor").post(f"{PAGE}{token.pk}/revoke/").status_code == 404
    assert ApiClient(raw).get("/api/v1/projects").status_code == 200
    client_for("viewer").post(f"{PAGE}{token.pk}/revoke/")
    assert ApiClient(raw).get("/api/v1/projects").status_code == 401
    assert "revoked" in client_for("viewer").get(PAGE).content.decode()


def test_anonymous_is_sent_to_login(client):
    assert client.get(PAGE).status_code == 302
