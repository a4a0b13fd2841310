"""Issue 16.1 and the form parts of 16.10: a refused save can't be missed.

A section that holds an error opens, an error summary sits at the top of the form, every
field error and help text is linked to its input (``aria-describedby`` names ids that exist),
errors are announced, and after a failed htmx submit the focus goes to the first invalid field.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from designer.design.models import Connection
from designer.projects.models import Variable
from tests.design.browser_helpers import dialog, open_designer


def described_by_resolves(page: Page, field: Locator) -> list[str]:
    """The ids the field's aria-describedby names; each must be exactly one element."""
    ids = (field.get_attribute("aria-describedby") or "").split()
    for element_id in ids:
        expect(page.locator(f"[id='{element_id}']")).to_have_count(1)
    return ids


def test_an_error_in_the_collapsed_advanced_section_opens_it_and_is_summarised(
    page, login, personas, project
):
    open_designer(page, login, project)
    page.get_by_role("button", name="New Constant Contact endpoint").click()
    panel = dialog(page)
    panel.get_by_label("API key (client ID)").fill("my-app")
    panel.get_by_text("Advanced").click()
    panel.get_by_label("API base URL").fill("https://evil.example/v3")
    panel.get_by_text("Advanced").click()  # folded away again, as a user leaves it
    expect(panel.get_by_label("API base URL")).to_be_hidden()
    panel.get_by_role("button", name="Save Changes").click()

    summary = panel.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text("Couldn't save")
    expect(summary.get_by_role("link", name=re.compile("API base URL"))).to_be_visible()
    # The section holding the error is open, and the focus is on the field to fix.
    base_url = panel.get_by_label("API base URL")
    expect(base_url).to_be_visible()
    expect(base_url).to_be_focused()
    expect(base_url).to_have_attribute("aria-invalid", "true")
    ids = described_by_resolves(page, base_url)
    assert "id_api_base_url_error" in ids
    error = panel.locator("#id_api_base_url_error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("not allowed")
    assert not Connection.objects.exists()


def test_help_text_is_linked_to_its_input(page, login, personas, project):
    open_designer(page, login, project)
    page.get_by_role("button", name="New Constant Contact endpoint").click()
    client_id = dialog(page).get_by_label("API key (client ID)")
    ids = described_by_resolves(page, client_id)
    assert ids == ["id_client_id_helptext"]
    expect(page.locator("#id_client_id_helptext")).to_contain_text("My Applications")


def test_a_full_page_form_with_errors_has_a_summary_and_focuses_the_field(
    page, login, personas, project
):
    login(page, "editor")
    page.goto(f"/projects/{project.pk}/settings/")
    add = page.locator("form.variable-new")
    add.get_by_label("Name").fill("no spaces allowed")
    add.get_by_role("button", name="Add variable").click()
    add = page.locator("form.variable-new")
    expect(add.locator(".error-summary")).to_contain_text("Name")
    name = add.get_by_label("Name")
    expect(name).to_be_focused()
    assert any(i.endswith("_error") for i in described_by_resolves(page, name))
    assert not Variable.objects.filter(project=project).exists()
