"""The foundation's browser path: log in, create a project, open its designer."""

from __future__ import annotations

from playwright.sync_api import expect

from designer.projects.models import Project


def test_login_create_project_and_open_the_designer(page, login, personas):
    login(page, "outsider")
    page.get_by_label("Name").fill("Newsletter sync")
    page.get_by_role("button", name="Create project").click()

    expect(page.get_by_role("tab", name="Project endpoints and connectors")).to_be_visible()
    expect(page.get_by_role("region", name="Design canvas")).to_be_visible()
    project = Project.objects.get(name="Newsletter sync")
    assert page.url.endswith(f"/projects/{project.pk}/")


def test_palette_tabs_switch(page, login, personas, project):
    login(page, "viewer")
    page.goto(f"/projects/{project.pk}/")
    page.get_by_role("tab", name="Global endpoints").click()
    expect(page.get_by_text("No global endpoints are shared with this project.")).to_be_visible()
    expect(page.locator("#panel-project-endpoints")).to_be_hidden()
