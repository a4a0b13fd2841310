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


def test_the_run_page_follows_a_per_record_run_live(page, login, personas, project, workers):
    """Issue 16.2: counters and log lines reach the run page while a per-record target works
    through one batch; "Run again" appears only once the run has ended (16.8)."""
    queue = new_queue()
    project.agent_group = queue
    project.save()
    operation = make_operation(
        project, count=40, page=40, batch=40, per_record=True, write_delay=0.25, name="Paced"
    )
    workers.start(queue)
    login(page, "operator")
    page.goto(f"/projects/{project.pk}/operations/{operation.pk}/log/")
    page.get_by_role("button", name="Run").click()
    page.locator("#started .run-status a").click()
    badge = page.locator(".run-status .run-badge")
    expect(badge).to_have_text("Running", timeout=20_000)
    expect(page.get_by_role("button", name="Run again")).to_have_count(0)
    # Mid-batch: records written so far, and the engine's lines, while it still runs.
    expect(page.locator(".live-counters")).to_contain_text(
        re.compile(r"Written [1-9]\d*"), timeout=10_000
    )
    expect(page.locator("#run-log")).to_contain_text("Started on agent", timeout=5_000)
    expect(badge).to_have_text("Running")
    run = OperationRun.objects.get(operation=operation)
    assert run.status == RunStatus.RUNNING and run.source_records == 0  # batch still open
    expect(badge).to_have_text("Success", timeout=30_000)
    expect(page.get_by_role("button", name="Run again")).to_be_visible()
    log = page.locator("#run-log li").all_inner_texts()
    assert "Started on agent" in log[1] and "Finished" in log[-1], log


def test_the_operation_card_shows_the_run_that_just_ended(page, login, personas, project, workers):
    queue = new_queue()
    project.agent_group = queue
    project.save()
    operation = make_operation(project, count=30, page=10, batch=10, delay=0.2, name="Card")
    workers.start(queue)
    login(page, "operator")
    page.goto(f"/projects/{project.pk}/")
    badge = page.locator(f"#last-run-{operation.pk}")
    expect(badge).to_have_text("Not run yet")
    page.get_by_role("button", name="Run Card").click()
    expect(badge).to_have_text("Success", timeout=30_000)  # not a reload: htmx on runs-changed
