"""A tour of the pages no other browser test reaches, so axe-core (run on every page state by
the ``page`` fixture, tests/browser/axe.py) checks them against WCAG 2.1 AA too (issue 16.10).
Each page must also render: its main heading is shown."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from designer.runs.models import OperationRun, RunLogLine
from tests.browser.axe import check_now
from tests.design.browser_helpers import endpoint, open_designer, operation
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("fake_connector")


@pytest.fixture
def finished_run(project, personas):
    things = endpoint(project)
    op = operation(project, "Nightly sync", source=things["query"], target=things["create"])
    run = OperationRun.objects.create(
        project=project,
        operation=op,
        trigger="manual",
        queue="celery",
        status="warning",
        source_records=3,
        target_records=2,
        failed_records=1,
        started_at=timezone.now(),
        ended_at=timezone.now(),
        triggered_by=personas["operator"],
    )
    RunLogLine.objects.create(run=run, message="Started")
    return run


def test_the_project_pages(page, login, personas, project, finished_run):
    login(page, "admin")
    pk = project.pk
    op = finished_run.operation_id
    for path in (
        f"/projects/{pk}/settings/",
        f"/projects/{pk}/history/",
        f"/projects/{pk}/runs/",
        f"/projects/{pk}/runs/{finished_run.pk}/",
        f"/projects/{pk}/operations/{op}/log/",
        f"/projects/{pk}/operations/{op}/run-settings/",
        "/projects/import/",
    ):
        response = page.goto(path)
        assert response.status == 200, path
        expect(page.locator("main h1, main h2").first).to_be_visible()
        check_now(page)


def test_the_designer_with_its_dialogs_and_menus(page, login, personas, project, finished_run):
    open_designer(page, login, project)
    page.get_by_role("button", name="Open endpoint CRM").click()
    expect(page.locator("#designer-dialog")).to_be_visible()
    check_now(page)
    page.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Open activity All contacts").click()
    expect(page.locator("#designer-dialog")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("region", name="Data schemas")).to_be_visible()
    check_now(page)
    page.get_by_role("button", name="Close").click()
    canvas = page.get_by_role("region", name="Design canvas")
    canvas.get_by_label("Actions for operation Nightly sync").click()
    expect(
        canvas.locator("details.menu[open]").get_by_role("button", name="Duplicate")
    ).to_be_visible()
    check_now(page)
    page.get_by_role("tab", name="Global endpoints").click()
    # The tab speaks for this project: global endpoints may exist but none is shared with it
    # (the old placeholder's "No global endpoints yet." went with issue 12's real tab).
    expect(page.get_by_text("No global endpoints are shared with this project.")).to_be_visible()
    check_now(page)


def test_the_console_for_staff(page, login, personas, project, finished_run):
    personas["admin"].is_staff = True
    personas["admin"].save(update_fields=["is_staff"])
    login(page, "admin")
    for path in (
        "/console/",
        "/console/runs/",
        "/console/agents/",
        "/console/projects/",
        "/console/users/",
        f"/console/runs/{finished_run.pk}/",
    ):
        response = page.goto(path)
        assert response.status == 200, path
        expect(page.locator("main h1, main h2").first).to_be_visible()
        check_now(page)


def test_the_login_page_with_an_error(page, personas):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    check_now(page)
