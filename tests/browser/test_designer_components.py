"""The activity wizard and the Components tab in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.design.models import Activity, Operation, Transformation
from tests.design.browser_helpers import card, dialog, endpoint, flash, open_designer, operation
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("fake_connector")


def test_activity_wizard_next_back_finished(page, login, personas, project):
    endpoint(project)
    open_designer(page, login, project)
    page.get_by_role("button", name="New Query activity of CRM").click()
    panel = dialog(page)
    expect(panel.get_by_text("Step 1: name and settings")).to_be_visible()
    panel.get_by_label("Name").fill("Recent contacts")
    panel.get_by_label("Limit").fill("0")
    panel.get_by_role("button", name="Next").click()
    expect(panel.locator("#id_limit_error")).to_contain_text("greater than or equal to 1")
    panel.get_by_label("Limit").fill("25")
    panel.get_by_label("Fields").fill("email, first_name")
    panel.get_by_role("button", name="Next").click()

    schemas = panel.get_by_role("region", name="Data schemas")
    expect(schemas).to_contain_text("Step 2: review the data schemas")
    expect(schemas).to_contain_text("This activity takes no request data.")
    email = schemas.locator("details", has_text="The contact's email").first
    expect(email).to_contain_text("address")
    expect(email.locator(".required").first).to_be_visible()
    email.locator("summary").first.click()  # collapsible
    expect(email.get_by_text("address", exact=True)).to_be_hidden()
    assert not Activity.objects.filter(name="Recent contacts").exists()  # nothing saved yet

    panel.get_by_role("button", name="Back").click()
    expect(panel.get_by_label("Limit")).to_have_value("25")
    panel.get_by_role("button", name="Next").click()
    panel.get_by_role("button", name="Finished").click()
    expect(panel).to_be_hidden()
    expect(flash(page)).to_contain_text("Saved activity “Recent contacts”.")
    expect(page.get_by_role("button", name="Open activity Recent contacts")).to_be_visible()
    saved = Activity.objects.get(name="Recent contacts")
    assert saved.config["limit"] == 25 and saved.config["fields"] == ["email", "first_name"]


def test_activity_wizard_discard_saves_nothing(page, login, personas, project):
    endpoint(project)
    open_designer(page, login, project)
    page.get_by_role("button", name="New Create activity of CRM").click()
    panel = dialog(page)
    panel.get_by_label("Name").fill("Never saved")
    panel.get_by_label("Newsletter").check()
    panel.get_by_role("button", name="Next").click()
    expect(panel).to_contain_text("Request")
    page.on("dialog", lambda d: d.accept())
    panel.get_by_role("button", name="Discard").click()
    expect(panel).to_be_hidden()
    assert not Activity.objects.filter(name="Never saved").exists()


def test_components_rename_duplicate_and_delete(page, login, personas, project):
    things = endpoint(project)
    operation(project, "Sync", source=things["query"])
    Transformation.objects.create(project=project, name="Map A")
    open_designer(page, login, project)
    pane = page.get_by_role("complementary", name="Project pane")

    pane.get_by_label("Actions for operation Sync").click()
    pane.get_by_label("Rename operation").fill("Nightly")
    pane.get_by_role("button", name="Rename").click()
    expect(flash(page)).to_contain_text("Renamed “Sync” to “Nightly”.")
    expect(card(page, "Nightly")).to_be_visible()
    assert Operation.objects.filter(name="Nightly").exists()

    pane.get_by_label("Actions for transformation Map A").click()
    pane.get_by_role("button", name="Duplicate").click()
    expect(pane.get_by_text("Map A copy")).to_be_visible()

    page.on("dialog", lambda d: d.accept())
    pane.get_by_label("Actions for activity All contacts").click()
    pane.get_by_role("button", name="Delete").click()
    expect(flash(page)).to_contain_text("can't be deleted: its activities are used in “Nightly”")
    assert Activity.objects.filter(name="All contacts").exists()

    pane.get_by_label("Actions for transformation Map A copy").click()
    pane.get_by_role("button", name="Delete").click()
    expect(flash(page)).to_contain_text("Deleted “Map A copy”.")
    expect(pane.get_by_text("Map A copy")).to_have_count(0)

    pane.get_by_label("Actions for operation Nightly").click()
    pane.get_by_label("Rename operation").fill("Bad/name")
    pane.get_by_role("button", name="Rename").click()
    expect(flash(page)).to_contain_text("Names can't contain")
