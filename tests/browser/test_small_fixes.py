"""Issue 16.8, the designer's small ones: no htmx error on "Finished", a favicon, the schema
review without raw HTML or another endpoint's description."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.design.models import Activity, Connection
from tests.design.browser_helpers import dialog, endpoint, flash, open_designer
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)


@pytest.mark.usefixtures("fake_connector")
def test_finished_saves_without_an_htmx_error(page, login, personas, project):
    endpoint(project)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    open_designer(page, login, project)
    page.evaluate(
        "document.body.addEventListener('htmx:targetError',"
        " e => console.error('htmx:targetError ' + e.detail.target))"
    )
    page.get_by_role("button", name="New Query activity of CRM").click()
    panel = dialog(page)
    panel.get_by_label("Name").fill("Recent contacts")
    panel.get_by_role("button", name="Next").click()
    panel.get_by_role("button", name="Finished").click()
    expect(flash(page)).to_contain_text("Saved activity “Recent contacts”.")
    expect(panel).to_be_hidden()
    assert Activity.objects.filter(name="Recent contacts").exists()
    assert problems == []


def test_no_request_of_a_page_is_a_404_and_there_is_a_favicon(page, login, personas, project):
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    open_designer(page, login, project)
    page.wait_for_load_state("networkidle")
    assert missing == []
    icon = page.request.get("/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")


def test_the_schema_review_shows_text_not_html_and_its_own_description(
    page, login, personas, project
):
    connection = Connection.objects.create(
        project=project,
        connector_key="constant_contact",
        name="CC",
        config={"client_id": "app", "auth_method": "oauth"},
    )
    open_designer(page, login, project)
    page.get_by_role("button", name=f"New Query contacts activity of {connection.name}").click()
    panel = dialog(page)
    panel.get_by_role("button", name="Next").click()
    schemas = panel.get_by_role("region", name="Data schemas")
    expect(schemas).to_contain_text("update_source")
    expect(schemas).not_to_contain_text("<code>")
    # Constant Contact's markup is shown as code, not as its tags.
    expect(schemas.locator(".schema-desc code", has_text="Account").first).to_be_visible()
    # The top line describes what the query returns, not the contact-by-id endpoint.
    top = schemas.locator(".schema-tree > .schema-node > details > summary").last
    expect(top).not_to_contain_text("update (PUT), or DELETE")
    expect(top).to_contain_text("GET /contacts")
