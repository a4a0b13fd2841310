"""Connection configuration: the form built from the connector's fields, secrets, Test, OAuth2."""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from designer.crypto import decrypt_json
from designer.design.models import Connection, ConnectionStatus
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

pytestmark = pytest.mark.django_db


def new_url(project, key="fake_crm"):
    return reverse("design:connection_new", args=[project.pk, key])


def form_data(**overrides):
    data = {
        "name": "CRM",
        "base_url": "https://crm.example/v1",
        "client_id": "abc",
        "api_key": "good",
        "region": "eu",
        "timeout": "",
    }
    data.update(overrides)
    return data


def make_connection(project, client, **overrides) -> Connection:
    response = client.post(new_url(project), form_data(**overrides), HTTP_HX_REQUEST="true")
    assert response.status_code == 200, unescape(response.content.decode())
    return Connection.objects.get(project=project, name=overrides.get("name", "CRM"))


def test_new_form_is_built_from_the_connector_fields(client_for, project, fake_connector):
    response = client_for("editor").get(new_url(project))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    for label in ("Base URL", "Client id", "API key", "Region", "Timeout"):
        assert label in html
    assert 'type="password"' in html
    assert "not set" in html
    assert "Fake CRM Endpoint" in html  # a free default name


def test_create_stores_secrets_encrypted_and_never_echoes_them(client_for, project, fake_connector):
    client = client_for("editor")
    connection = make_connection(project, client, api_key="s3cret-value")
    assert connection.config["base_url"] == "https://crm.example/v1"
    assert "api_key" not in connection.config
    assert "s3cret-value" not in connection.secrets_encrypted
    assert decrypt_json(connection.secrets_encrypted) == {"api_key": "s3cret-value"}
    assert connection.updated_by.username == "editor"
    html = client.get(reverse("design:connection", args=[project.pk, connection.pk])).content
    assert b"s3cret-value" not in html
    assert b'data-secret-state="api_key">set<' in html


def test_validation_errors_are_shown_next_to_their_field(client_for, project, fake_connector):
    response = client_for("editor").post(
        new_url(project),
        form_data(name="A/B", base_url="https://evil.example/", client_id=""),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    html = unescape(response.content.decode())
    assert 'id="id_name_error"' in html and "can't contain" in html
    assert 'id="id_client_id_error"' in html
    assert Connection.objects.count() == 0


def test_allow_list_refusal_is_inline(client_for, project, fake_connector):
    response = client_for("editor").post(
        new_url(project), form_data(base_url="https://evil.example/"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert 'id="id_base_url_error" role="alert">This address is not on the allow-list.' in (
        unescape(response.content.decode())
    )


def test_names_are_unique_in_the_project(client_for, project, fake_connector):
    client = client_for("editor")
    make_connection(project, client)
    response = client.post(new_url(project), form_data(), HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "already exists" in unescape(response.content.decode())
    assert Connection.objects.filter(project=project).count() == 1


def test_blank_secret_keeps_the_stored_value_and_clear_removes_it(
    client_for, project, fake_connector
):
    client = client_for("editor")
    connection = make_connection(project, client)
    save = reverse("design:connection_save", args=[project.pk, connection.pk])
    response = client.post(
        save,
        form_data(api_key="", region="us", version=connection.version),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, unescape(response.content.decode())
    connection.refresh_from_db()
    assert connection.config["region"] == "us"
    assert decrypt_json(connection.secrets_encrypted) == {"api_key": "good"}
    client.post(
        save,
        form_data(api_key="", clear__api_key="on", version=connection.version),
        HTTP_HX_REQUEST="true",
    )
    connection.refresh_from_db()
    assert decrypt_json(connection.secrets_encrypted) == {}


def test_a_stale_save_is_refused_naming_who_changed_it(
    client_for, personas, project, fake_connector
):
    editor = client_for("editor")
    connection = make_connection(project, editor)
    loaded_version = connection.version
    admin = client_for("admin")
    save = reverse("design:connection_save", args=[project.pk, connection.pk])
    ok = admin.post(save, form_data(region="us", version=loaded_version), HTTP_HX_REQUEST="true")
    assert ok.status_code == 200
    stale = editor.post(
        save, form_data(name="Mine", version=loaded_version), HTTP_HX_REQUEST="true"
    )
    assert stale.status_code == 422
    assert "Changed by admin at" in unescape(stale.content.decode())
    assert "reload to see their version" in unescape(stale.content.decode())
    connection.refresh_from_db()
    assert connection.name == "CRM" and connection.config["region"] == "us"
    assert connection.version == loaded_version + 1


@pytest.mark.parametrize(
    ("key", "status", "text"),
    [
        ("good", ConnectionStatus.CONNECTED, "Connected to Fake CRM account Acme."),
        ("wrong", ConnectionStatus.FAILING, "Fake CRM refused the credentials."),
    ],
)
def test_test_button_reports_and_stores_the_outcome(
    client_for, project, fake_connector, key, status, text
):
    client = client_for("editor")
    connection = make_connection(project, client, api_key=key)
    response = client.post(
        reverse("design:connection_test", args=[project.pk, connection.pk]), HTTP_HX_REQUEST="true"
    )
    html = unescape(response.content.decode())
    assert text in html
    if status == ConnectionStatus.FAILING:
        assert "Unauthorized" in html  # the remote system's own error text
    connection.refresh_from_db()
    assert connection.status == status
    assert text in connection.status_message
    assert connection.last_tested_at is not None
    assert "designer-changed" in response["HX-Trigger"]


def test_needs_reconnect_is_shown_in_the_form(client_for, project, fake_connector):
    connection = ConnectionFactory(
        project=project,
        connector_key="fake_crm",
        status=ConnectionStatus.NEEDS_RECONNECT,
        status_message="Constant Contact no longer accepts this connection's authorisation",
    )
    html = (
        client_for("viewer")
        .get(reverse("design:connection", args=[project.pk, connection.pk]))
        .content.decode()
    )
    assert "Needs reconnect" in html and "no longer accepts" in html
    assert "Save Changes" not in html  # viewers see, never edit


def test_delete_is_refused_while_activities_are_used_naming_the_operations(
    client_for, project, fake_connector
):
    connection = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    activity = ActivityFactory(connection=connection, activity_type="query")
    OperationFactory(project=project, name="Nightly sync", source=activity)
    url = reverse(
        "design:component_action", args=[project.pk, "connection", connection.pk, "delete"]
    )
    response = client_for("editor").post(url, HTTP_HX_REQUEST="true")
    assert "“Nightly sync”" in unescape(response.content.decode())
    assert "can't be deleted" in unescape(response.content.decode())
    assert Connection.objects.filter(pk=connection.pk).exists()
    activity.delete()
    response = client_for("editor").post(url, HTTP_HX_REQUEST="true")
    assert not Connection.objects.filter(pk=connection.pk).exists()
    assert "close-dialog" in response["HX-Trigger-After-Settle"]  # after the re-targeted swap


def test_oauth_flow_with_pkce_state_bound_to_connection_and_user(
    client_for, project, fake_connector, settings
):
    settings.SITE_URL = "http://testserver"
    client = client_for("editor")
    connection = make_connection(project, client, api_key="")
    start = client.post(reverse("design:connection_oauth_start", args=[project.pk, connection.pk]))
    assert start.status_code == 302
    query = parse_qs(urlparse(start["Location"]).query)
    callback = reverse("design:connection_oauth_callback", args=[project.pk, connection.pk])
    assert query["redirect_uri"] == ["http://testserver" + callback]
    assert len(query["code_challenge"][0]) == 43  # S256, base64url without padding
    state = query["state"][0]

    # Another member can't complete the editor's flow with the editor's state.
    other = client_for("admin").get(callback, {"state": state, "code": "good-code"})
    assert other.status_code == 302
    connection.refresh_from_db()
    assert decrypt_json(connection.secrets_encrypted) == {}

    done = client.get(callback, {"state": state, "code": "good-code"})
    assert done.status_code == 302
    assert done["Location"].endswith(f"?connection={connection.pk}")
    connection.refresh_from_db()
    assert decrypt_json(connection.secrets_encrypted) == {"access_token": "token-1"}
    assert connection.status == ConnectionStatus.CONNECTED
    detail = reverse("design:connection", args=[project.pk, connection.pk])
    assert f'hx-get="{detail}" hx-trigger="load"' in client.get(done["Location"]).content.decode()
    assert "Authorised. Connected to Fake CRM" in unescape(client.get(detail).content.decode())
    assert "Authorised." not in client.get(detail).content.decode()  # shown once

    # The state is single use.
    client.get(callback, {"state": state, "code": "good-code"})
    assert "did not match" in unescape(client.get(detail).content.decode())


def test_oauth_refusal_comes_back_with_the_reason(client_for, project, fake_connector):
    client = client_for("editor")
    connection = make_connection(project, client, api_key="")
    start = client.post(reverse("design:connection_oauth_start", args=[project.pk, connection.pk]))
    state = parse_qs(urlparse(start["Location"]).query)["state"][0]
    callback = reverse("design:connection_oauth_callback", args=[project.pk, connection.pk])
    client.get(
        callback, {"state": state, "error": "access_denied", "error_description": "User said no"}
    )
    detail = reverse("design:connection", args=[project.pk, connection.pk])
    assert "Not authorised: User said no" in unescape(client.get(detail).content.decode())
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.FAILING


def test_bad_code_is_reported(client_for, project, fake_connector):
    client = client_for("editor")
    connection = make_connection(project, client, api_key="")
    start = client.post(reverse("design:connection_oauth_start", args=[project.pk, connection.pk]))
    state = parse_qs(urlparse(start["Location"]).query)["state"][0]
    callback = reverse("design:connection_oauth_callback", args=[project.pk, connection.pk])
    client.get(callback, {"state": state, "code": "stolen"})
    detail = reverse("design:connection", args=[project.pk, connection.pk])
    assert "Not authorised: invalid_grant" in unescape(client.get(detail).content.decode())


def test_duplicate_endpoint_copies_settings_and_activities_not_credentials(
    client_for, project, fake_connector
):
    client = client_for("editor")
    connection = make_connection(project, client, api_key="s3cret")
    ActivityFactory(connection=connection, activity_type="query", name="All", config={"limit": 3})
    response = client.post(
        reverse(
            "design:component_action", args=[project.pk, "connection", connection.pk, "duplicate"]
        ),
        HTTP_HX_REQUEST="true",
    )
    assert "Duplicated “CRM” as “CRM copy”." in unescape(response.content.decode())
    copy = Connection.objects.get(name="CRM copy")
    assert copy.config == connection.config
    assert copy.secrets_encrypted == ""
    assert [(a.name, a.config) for a in copy.activities.all()] == [("All", {"limit": 3})]
