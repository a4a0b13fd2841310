"""Issue 16.5: Viewers and Operators see read-only forms that say why, a refused action shows
its message, and 403 / 404 pages are friendly with a way back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.design.models import Operation
from designer.projects.models import Membership, Role
from tests.design.browser_helpers import dialog, endpoint, open_designer
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)


@pytest.mark.usefixtures("fake_connector")
@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_a_read_only_role_sees_a_disabled_form_labelled_with_the_reason(
    page, login, personas, project, persona
):
    endpoint(project)
    open_designer(page, login, project, username=persona)
    page.get_by_role("button", name="Open endpoint CRM").click()
    panel = dialog(page)
    reason = panel.locator("#read-only-reason")
    role = persona.capitalize()
    expect(reason).to_have_text(f"Read only: your role ({role}) can't change endpoints.")
    client_id = panel.get_by_label("Client id")
    expect(client_id).to_be_disabled()
    expect(panel.locator("fieldset")).to_have_attribute("aria-describedby", "read-only-reason")
    expect(panel.get_by_role("button", name="Save Changes")).to_have_count(0)

    panel.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Open activity All contacts").click()
    expect(panel.locator("#read-only-reason")).to_contain_text(f"your role ({role})")
    expect(panel.get_by_label("Limit")).to_be_disabled()


def test_a_refused_action_shows_the_servers_message(page, login, personas, project):
    open_designer(page, login, project, username="editor")
    # Demoted while the page is open: the next change is refused, and the page says why.
    Membership.objects.filter(project=project, user__username="editor").update(role=Role.VIEWER)
    page.get_by_role("button", name="New operation").click()
    alert = page.locator("#page-alert")
    expect(alert).to_contain_text("Your role (Viewer) can't design here.")
    expect(alert.get_by_role("link", name="Reload the page")).to_be_visible()
    assert not Operation.objects.filter(project=project).exists()


def test_the_console_refuses_with_a_friendly_page(page, login, personas):
    login(page, "viewer")
    response = page.goto("/console/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_text("The console is for staff and project Admins.")).to_be_visible()
    page.get_by_role("link", name="Back to your projects").click()
    page.wait_for_url("**/projects/")


def test_an_unknown_project_is_a_friendly_404(page, login, personas, project):
    login(page, "outsider")
    response = page.goto(f"/projects/{project.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("link", name="Back to your projects")).to_be_visible()
