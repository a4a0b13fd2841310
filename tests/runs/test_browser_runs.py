"""In Chromium: press Run on an operation's log page and watch it finish live (htmx polling),
then cancel a slow one from its run page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from designer.runs.models import OperationRun, RunStatus
from tests.runs.conftest import make_operation, new_queue, wait_final

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_run_button_shows_live_status_then_cancel(page, login, personas, project, workers):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    quick = make_operation(project, count=120, page=20, batch=20, fail_every=40, name="Quick")
    slow = make_operation(project, count=400, page=10, batch=10, delay=0.2, name="Slow")
    workers.start(queue)
    login(page, "operator")

    page.goto(f"/projects/{project.pk}/operations/{quick.pk}/log/")
    page.get_by_role("button", name="Run").click()
    status = page.locator("#started .run-status")
    expect(status.locator(".run-badge")).to_have_text("Success with Warning", timeout=20_000)
    expect(status).to_contain_text("Source 120")
    expect(status).to_contain_text("Target 117")
    expect(status).to_contain_text("Failed 3")
    expect(page.locator("table.runs tbody tr[data-run]")).to_have_count(1)  # list refreshed
    status.get_by_role("link").click()
    expect(page.locator(".failures")).to_contain_text("r40@example.com")
    expect(page.locator("#run-log")).to_contain_text("Records 81 to 100: 19 written, 1 failed.")

    page.goto(f"/projects/{project.pk}/operations/{slow.pk}/log/")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#started progress")).to_be_visible(timeout=20_000)
    expect(page.locator("#started")).to_contain_text(re.compile(r"[1-9]\d* of 400 records"))
    page.locator("#started .run-status a").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".run-status .run-badge")).to_have_text("Canceled", timeout=20_000)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)  # page reloaded at the end
    expect(page.locator("table").first).to_contain_text("Canceled at the user's request")
    run = wait_final(OperationRun.objects.get(operation=slow))
    assert run.status == RunStatus.CANCELED and run.source_records < 400
