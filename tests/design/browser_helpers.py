"""Shared bits of the designer's browser tests (tests/browser/test_designer_*.py)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from designer.design.models import Activity, Connection, Operation
from designer.design.operations import plain_chain
from designer.projects.models import Project


def open_designer(page: Page, login, project: Project, username: str = "editor") -> None:
    login(page, username)
    page.goto(f"/projects/{project.pk}/")
    expect(page.get_by_role("region", name="Design canvas")).to_be_visible()


def endpoint(project: Project, name: str = "CRM") -> dict:
    """A Fake CRM endpoint with a Query and a Create activity."""
    connection = Connection.objects.create(
        project=project,
        connector_key="fake_crm",
        name=name,
        config={"base_url": "https://crm.example", "client_id": "abc"},
    )
    return {
        "connection": connection,
        "query": Activity.objects.create(
            project=project, connection=connection, activity_type="query", name="All contacts"
        ),
        "create": Activity.objects.create(
            project=project, connection=connection, activity_type="create", name="Add contact"
        ),
    }


def operation(project: Project, name: str, **slots) -> Operation:
    """An operation whose steps are ``slots`` (source, transformation, target) in order."""
    made = Operation.objects.create(project=project, name=name)
    plain_chain(made, **slots)
    return made


def flash(page: Page):
    return page.locator("#designer-flash")


def dialog(page: Page):
    return page.locator("#designer-dialog")


def card(page: Page, name: str):
    return page.get_by_role("article", name=f"Operation {name}")
