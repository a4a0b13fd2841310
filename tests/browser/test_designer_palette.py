"""The palette and the connection form in a real browser: search, open, save, discard,
delete refused while used, and Test against the Constant Contact sandbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.crypto import decrypt_json
from designer.design.models import Connection, ConnectionStatus
from tests.design.browser_helpers import dialog, endpoint, open_designer, operation
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)
from tests.fixtures.sandbox import CC_CLIENT_ID, cc_connection

pytestmark = pytest.mark.usefixtures("fake_connector")


def test_search_filters_the_palette_as_you_type(page, login, personas, project):
    endpoint(project, "Newsletter CRM")
    endpoint(project, "Billing")
    open_designer(page, login, project)
    palette = page.get_by_role("complementary", name="Design component palette")
    expect(palette.get_by_text("Newsletter CRM")).to_be_visible()
    box = page.get_by_label("Search endpoints and connectors")
    box.fill("bill")
    expect(palette.get_by_text("Billing")).to_be_visible()
    expect(palette.get_by_text("Newsletter CRM")).to_be_hidden()
    expect(palette.get_by_role("button", name="New Constant Contact endpoint")).to_be_hidden()
    box.fill("constant")
    expect(palette.get_by_role("button", name="New Constant Contact endpoint")).to_be_visible()
    expect(palette.get_by_text("Billing")).to_be_hidden()
    box.fill("add contact")  # an activity: its endpoint stays visible around it
    expect(palette.get_by_text("Add contact").first).to_be_visible()
    box.fill("")
    expect(palette.get_by_text("Billing")).to_be_visible()


def test_create_a_connection_with_inline_errors_then_save(page, login, personas, project):
    open_designer(page, login, project)
    page.get_by_role("button", name="New Fake CRM endpoint").click()
    panel = dialog(page)
    expect(panel.get_by_role("heading", name="New Fake CRM endpoint")).to_be_visible()
    expect(panel.locator('[data-secret-state="api_key"]')).to_have_text("not set")
    panel.get_by_label("Name").fill("My CRM")
    panel.get_by_label("Base URL").fill("https://evil.example/")
    panel.get_by_label("API key").fill("good")
    panel.get_by_role("button", name="Save Changes").click()
    expect(panel.locator("#id_base_url_error")).to_have_text(
        "This address is not on the allow-list."
    )
    expect(panel.locator("#id_client_id_error")).to_be_visible()
    assert not Connection.objects.exists()

    panel.get_by_label("Base URL").fill("https://crm.example/v2")
    panel.get_by_label("Client id").fill("abc")
    panel.get_by_label("API key").fill("good")
    panel.get_by_role("button", name="Save Changes").click()
    expect(panel.get_by_text("Saved.")).to_be_visible()
    expect(panel.locator('[data-secret-state="api_key"]')).to_have_text("set")
    expect(panel.locator("#id_api_key")).to_have_value("")  # never echoed
    connection = Connection.objects.get(name="My CRM")
    assert decrypt_json(connection.secrets_encrypted) == {"api_key": "good"}
    # The palette refreshed itself: the new endpoint with its activity types.
    palette = page.get_by_role("complementary", name="Design component palette")
    expect(palette.get_by_role("button", name="Open endpoint My CRM")).to_be_visible()
    expect(palette.get_by_role("button", name="New Query activity of My CRM")).to_be_visible()

    # Test with the fake connector: the spinner, then the exact outcome.
    panel.get_by_role("button", name="Test", exact=True).click()
    expect(panel.locator("#test-result")).to_contain_text("Connected to Fake CRM account Acme.")


def test_discard_asks_to_confirm(page, login, personas, project):
    things = endpoint(project)
    open_designer(page, login, project)
    page.get_by_role("button", name="Open endpoint CRM").click()
    panel = dialog(page)
    panel.get_by_label("Client id").fill("changed")
    answers = iter([False, True])
    page.on("dialog", lambda d: d.accept() if next(answers) else d.dismiss())
    panel.get_by_role("button", name="Discard Changes").click()
    expect(panel).to_be_visible()  # said no: still editing
    panel.get_by_role("button", name="Discard Changes").click()
    expect(panel).to_be_hidden()
    things["connection"].refresh_from_db()
    assert things["connection"].config["client_id"] == "abc"


def test_delete_is_refused_naming_the_operations_while_used(page, login, personas, project):
    things = endpoint(project)
    op = operation(project, "Nightly sync", source=things["query"])
    open_designer(page, login, project)
    page.get_by_role("button", name="Open endpoint CRM").click()
    page.on("dialog", lambda d: d.accept())
    dialog(page).get_by_role("button", name="Delete").click()
    expect(dialog(page).locator("#dialog-message")).to_contain_text(
        "can't be deleted: its activities are used in “Nightly sync”"
    )
    assert Connection.objects.filter(pk=things["connection"].pk).exists()

    op.delete()
    dialog(page).get_by_role("button", name="Delete").click()
    expect(dialog(page)).to_be_hidden()
    expect(page.locator("#designer-flash")).to_contain_text("Deleted “CRM”.")
    expect(page.get_by_role("button", name="Open endpoint CRM")).to_have_count(0)
    assert not Connection.objects.filter(pk=things["connection"].pk).exists()


# --- Constant Contact, for real, against the sandbox -----------------------------------------


def fill_cc_form(page, sandbox, access_token: str) -> None:
    page.get_by_role("button", name="New Constant Contact endpoint").click()
    panel = dialog(page)
    panel.get_by_label("Name").fill("Constant Contact")
    panel.get_by_label("API key (client ID)").fill(CC_CLIENT_ID)
    panel.get_by_label("Authentication").select_option("token")
    panel.get_by_label("Access token").fill(access_token)
    panel.get_by_text("Advanced").click()
    panel.get_by_label("API base URL").fill(sandbox.api_base_url)
    panel.get_by_role("button", name="Save Changes").click()
    expect(panel.get_by_text("Saved.")).to_be_visible()


def test_test_button_with_good_credentials_against_the_sandbox(
    page, login, personas, project, cc_allowed
):
    tokens = cc_allowed.issue_tokens(CC_CLIENT_ID)
    open_designer(page, login, project)
    fill_cc_form(page, cc_allowed, tokens["access_token"])
    panel = dialog(page)
    panel.get_by_role("button", name="Test", exact=True).click()
    result = panel.locator("#test-result .test-result")
    expect(result).to_have_attribute("data-outcome", "connected")
    expect(result).to_contain_text("Connected")
    connection = Connection.objects.get(name="Constant Contact")
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.last_tested_at is not None
    assert any(r.path.endswith("/account/summary") for r in cc_allowed.api_requests())


def test_test_button_with_bad_credentials_shows_constant_contacts_error(
    page, login, personas, project, cc_allowed
):
    open_designer(page, login, project)
    fill_cc_form(page, cc_allowed, "not-a-real-token")
    panel = dialog(page)
    panel.get_by_role("button", name="Test", exact=True).click()
    result = panel.locator("#test-result .test-result")
    expect(result).to_have_attribute("data-outcome", "bad_credentials")
    expect(result).to_contain_text("Failed (Bad credentials)")
    expect(result.locator(".detail")).to_contain_text("Unauthorized")  # Constant Contact's text
    connection = Connection.objects.get(name="Constant Contact")
    assert connection.status in (ConnectionStatus.FAILING, ConnectionStatus.NEEDS_RECONNECT)
    assert connection.status_message


def test_connect_with_constant_contact_round_trip_through_the_sandbox(
    page, login, personas, project, cc_allowed, live_server, settings
):
    settings.SITE_URL = live_server.url  # the redirect URI the sandbox sends the browser back to
    connection = cc_connection(project, cc_allowed)
    open_designer(page, login, project)
    page.get_by_role("button", name="Open endpoint Constant Contact").click()
    dialog(page).get_by_role("button", name="Connect with Constant Contact").click()
    # Sandbox authorize -> our callback -> back to the designer with the form open.
    page.wait_for_url(f"**/projects/{project.pk}/?connection={connection.pk}")
    expect(dialog(page).locator(".oauth-outcome")).to_contain_text("Authorised.")
    expect(dialog(page).locator("#connection-status")).to_contain_text("Connected")
    expect(dialog(page).locator('[data-secret-state="access_token"]')).to_have_text("set")
    connection.refresh_from_db()
    secrets = decrypt_json(connection.secrets_encrypted)
    assert secrets["access_token"] and secrets["refresh_token"]
    assert connection.status == ConnectionStatus.CONNECTED
    token_calls = [r for r in cc_allowed.requests if r.path.endswith("/token")]
    assert token_calls, "the code was exchanged at the sandbox's token endpoint"


def test_test_waits_for_unsaved_changes_to_be_saved(page, login, personas, project):
    endpoint(project)
    open_designer(page, login, project)
    page.get_by_role("button", name="Open endpoint CRM").click()
    panel = dialog(page)
    test = panel.get_by_role("button", name="Test", exact=True)
    expect(test).to_be_enabled()
    panel.get_by_label("Client id").fill("changed")
    expect(test).to_be_disabled()
    expect(panel.locator("#test-hint")).to_have_text(
        "Unsaved changes: Save Changes first, then Test."
    )
    panel.get_by_role("button", name="Save Changes").click()
    expect(panel.get_by_text("Saved.")).to_be_visible()
    expect(panel.get_by_role("button", name="Test", exact=True)).to_be_enabled()
