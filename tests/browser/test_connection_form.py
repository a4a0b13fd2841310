"""The connection form in a real browser: token-only connections (issue 16.4) and one status
everywhere (issue 16.6)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.crypto import decrypt_json
from designer.design.models import Connection, ConnectionStatus
from tests.design.browser_helpers import dialog, endpoint, open_designer
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)


def test_a_token_only_connection_needs_no_client_id_and_keeps_the_pasted_token(
    page, login, personas, project
):
    open_designer(page, login, project)
    page.get_by_role("button", name="New Constant Contact endpoint").click()
    panel = dialog(page)
    panel.get_by_label("Name").fill("CC by token")
    panel.get_by_label("Authentication").select_option("token")
    panel.get_by_label("Access token").fill("pasted-token-123")
    panel.get_by_text("Advanced").click()
    panel.get_by_label("API base URL").fill("https://evil.example/v3")  # another error
    panel.get_by_role("button", name="Save Changes").click()

    expect(panel.locator(".error-summary")).to_contain_text("API base URL")
    # No client ID asked for in token mode, and the pasted token is still there.
    expect(panel.locator("#id_client_id_error")).to_have_count(0)
    expect(panel.get_by_label("Access token")).to_have_value("pasted-token-123")
    assert not Connection.objects.exists()

    panel.get_by_label("API base URL").fill("https://api.cc.email/v3")
    panel.get_by_role("button", name="Save Changes").click()
    expect(panel.get_by_text("Saved.")).to_be_visible()
    connection = Connection.objects.get(name="CC by token")
    assert connection.config["auth_method"] == "token"
    assert not connection.config.get("client_id")
    assert decrypt_json(connection.secrets_encrypted)["access_token"] == "pasted-token-123"
    # Saved in token mode: nothing offers the OAuth sign-in.
    expect(panel.get_by_role("button", name="Test", exact=True)).to_be_visible()
    expect(panel.get_by_role("button", name="Connect with Constant Contact")).to_have_count(0)


def test_switching_to_token_mode_hides_connect_before_saving(page, login, personas, project):
    Connection.objects.create(
        project=project,
        connector_key="constant_contact",
        name="CC",
        config={"client_id": "app", "auth_method": "oauth"},
    )
    open_designer(page, login, project)
    page.get_by_role("button", name="Open endpoint CC").click()
    panel = dialog(page)
    connect = panel.get_by_role("button", name="Connect with Constant Contact")
    expect(connect).to_be_visible()
    panel.get_by_label("Authentication").select_option("token")
    expect(connect).to_be_hidden()
    panel.get_by_label("Authentication").select_option("oauth")
    expect(connect).to_be_visible()


@pytest.mark.usefixtures("fake_connector")
def test_after_test_every_status_agrees(page, login, personas, project):
    things = endpoint(project)  # no API key stored: Test fails
    open_designer(page, login, project)
    palette = page.get_by_role("complementary", name="Design component palette")
    palette_status = palette.locator(f'[data-connection="{things["connection"].pk}"] .status')
    expect(palette_status).to_have_text("Not tested")
    page.get_by_role("button", name="Open endpoint CRM").click()
    panel = dialog(page)
    expect(panel.locator("#connection-status")).to_contain_text("Not tested")
    panel.get_by_role("button", name="Test", exact=True).click()
    expect(panel.locator("#test-result")).to_contain_text("Failed")
    things["connection"].refresh_from_db()
    assert things["connection"].status == ConnectionStatus.FAILING
    expect(panel.locator("#connection-status")).to_contain_text("Failing")
    expect(panel.locator("#connection-status")).not_to_contain_text("Not tested")
    expect(palette_status).to_have_text("Failing")
