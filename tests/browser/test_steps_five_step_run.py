"""Issue 11's check, in Chromium with the keyboard only (no mouse event is sent): build the
five-step operation source -> transformation -> Constant Contact Create -> response
transformation -> Files target, map both transformations, run it on a real Celery worker
against the Constant Contact sandbox, and check each step's counts on the run page and the
file written (the created contacts' ids, read back from the sandbox).

The designer is driven with Tab and the arrow keys (roving tabindex); in the mapping editor
(another page, with its own keyboard path) the test focuses the fields it types into."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from designer.design.models import Operation, StepKind
from designer.files.storage import connection_folder
from designer.runs.models import OperationRun, RunStatus
from tests.browser.test_steps_keyboard import add_with_dialog, focused_name, press_until
from tests.design.browser_helpers import open_designer
from tests.factories import ActivityFactory, ConnectionFactory
from tests.fixtures.sandbox import cc_connection
from tests.fixtures.waiting import wait_for
from tests.runs.conftest import new_queue, wait_final, worker_env, workers  # noqa: F401

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PEOPLE = (
    "email,first_name\n"
    "ann@example.com,Ann\n"
    "bob@example.com,Bob\n"
    "not-an-email,Nobody\n"
    "cid@example.com,Cid\n"
)


@pytest.fixture
def endpoints(project, workers, cc_sandbox, cc_tokens, settings, tmp_path):  # noqa: F811
    """A worker on the project's queue, a Constant Contact endpoint on the sandbox with a
    Create activity, a Files endpoint with an inline table and a CSV writer."""
    settings.FILES_ROOT = tmp_path / "files"
    queue = new_queue()
    project.agent_group = queue
    project.save()
    cc = cc_connection(project, cc_sandbox, cc_tokens)
    ActivityFactory(
        connection=cc,
        activity_type="create",
        name="Create contacts",
        config={"mode": "single", "create_source": "Account", "on_duplicate": "fail"},
    )
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    ActivityFactory(
        connection=files, activity_type="inline", name="People", config={"data": PEOPLE}
    )
    ActivityFactory(
        connection=files,
        activity_type="write",
        name="Created ids",
        config={
            "file_name": "created-ids.csv",
            "format": "csv",
            "columns": ["email", "contact_id", "action"],
            "if_exists": "replace",
            "encoding": "utf-8",
            "delimiter": ",",
        },
    )
    folder = connection_folder(files)
    folder.mkdir(parents=True)
    workers.start(
        queue,
        extra_env={
            "CONNECTOR_URL_ALLOW_LIST": cc_sandbox.url,
            "FILES_ROOT": str(settings.FILES_ROOT),
        },
    )
    return {"folder": folder}


def add_at_the_end(page: Page, what: str, number: int) -> None:
    """From a step of the card: right to the "+" at the end, Enter, choose, Add."""
    press_until(page, "ArrowRight", "Add a step at the end of New Operation")
    page.keyboard.press("Enter")
    add_with_dialog(page, what)
    expect(page.locator("#designer-flash")).to_contain_text(f"as step {number} of")
    assert f"Step {number}," in focused_name(page)


def map_fields(page: Page, rules: dict[str, str]) -> None:
    """In the mapping editor: type each source path into its target's box, then Save."""
    for target, source in rules.items():
        box = page.get_by_label(f"Mapping of {target}", exact=True)
        box.focus()
        page.keyboard.type(source)
    page.get_by_role("button", name="Save").press("Enter")
    expect(page.locator(".mapping-status")).to_contain_text("Saved")


def back_to_the_designer(page: Page, project) -> None:
    page.get_by_role("link", name=project.name).press("Enter")
    expect(page.get_by_role("region", name="Design canvas")).to_be_visible()


def to_step(page: Page, wanted: str) -> None:
    """Tab into the card's steps (one tab stop), then along them with the arrow keys."""
    press_until(page, "Tab", "of New Operation", max_keys=120)
    press_until(page, "ArrowRight", wanted)


def test_five_steps_built_with_the_keyboard_run_on_a_worker(
    page, login, personas, project, endpoints, cc_sandbox
):
    open_designer(page, login, project)
    # 1. The source, from the palette: search, arrows, its menu, "Add to operation…".
    press_until(page, "Tab", "Search endpoints and connectors")
    page.keyboard.type("people")
    press_until(page, "ArrowDown", "Open activity People")
    press_until(page, "ArrowRight", "Actions for People")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    add_with_dialog(page)  # a new operation
    expect(page.locator("#designer-flash")).to_contain_text("as step 1 of “New Operation”")
    # 2-5. Each further step from the "+" at the end of the chain.
    add_at_the_end(page, "Transformation", 2)
    add_at_the_end(page, "Create contacts", 3)
    add_at_the_end(page, "Transformation", 4)
    add_at_the_end(page, "Created ids", 5)
    operation = Operation.objects.get(name="New Operation")
    chain = list(operation.steps.filter(parent=None).order_by("position"))
    assert [s.kind for s in chain] == [
        StepKind.SOURCE,
        StepKind.TRANSFORMATION,
        StepKind.TARGET,
        StepKind.TRANSFORMATION,
        StepKind.TARGET,
    ]
    cards = page.locator(f"#steps-{operation.pk} > li.step")
    expect(cards).to_have_count(5)
    expect(cards.nth(3)).to_contain_text("Response transformation")

    # The mappings: step 2 (records -> contacts), step 4 (Create's response -> the file).
    press_until(page, "ArrowLeft", "Step 2, Transformation")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Source")).to_be_visible()
    map_fields(page, {"email_address.address": "email", "first_name": "first_name"})
    back_to_the_designer(page, project)
    to_step(page, "Step 4, Response transformation")
    page.keyboard.press("Enter")
    expect(page.locator(".source-tree")).to_contain_text("error_message")
    map_fields(
        page,
        {"email": "record.email_address.address", "contact_id": "id", "action": "action"},
    )
    back_to_the_designer(page, project)

    # Run it from the card's Run button (Shift+Tab back from the steps to the header).
    to_step(page, "Step 1, Source: People")
    press_until(page, "Shift+Tab", "Run New Operation", max_keys=30)
    page.keyboard.press("Enter")
    expect(page.locator(f"#run-live-{operation.pk}")).not_to_be_empty()
    wait_for(lambda: OperationRun.objects.filter(operation=operation).exists(), timeout=20)
    run = wait_final(OperationRun.objects.get(operation=operation), timeout=120)
    assert run.status == RunStatus.WARNING, run.message  # one bad email
    assert (run.source_records, run.failed_records) == (4, 1)

    # The run page: each step with its counts.
    page.goto(f"/projects/{project.pk}/runs/{run.pk}/")
    rows = page.locator("#run-steps tbody tr")
    expect(rows).to_have_count(5)
    counts = [
        [cell.strip() for cell in rows.nth(i).locator("td").all_inner_texts()] for i in range(5)
    ]
    names = [rows.nth(i).locator("th").text_content() for i in range(5)]
    assert "People" in names[0] and "Created ids" in names[4], names
    assert counts == [
        ["4", "4", "0"],  # source: read 4
        ["4", "4", "0"],  # mapping
        ["4", "3", "1"],  # Create: 3 written, the bad email failed; all 4 results flow on
        ["4", "4", "0"],  # response mapping
        ["4", "4", "0"],  # the file: the results, failed one included
    ], counts
    failure = run.failures.get()
    assert "Create contacts" in failure.step_name, failure.step_name

    # The file: one row per record with what Constant Contact did and the id it gave.
    written = (endpoints["folder"] / "created-ids.csv").read_text()
    rows_out = {r["email"]: r for r in csv.DictReader(io.StringIO(written))}
    assert sorted(rows_out) == [
        "ann@example.com",
        "bob@example.com",
        "cid@example.com",
        "not-an-email",
    ]
    for email in ("ann@example.com", "bob@example.com", "cid@example.com"):
        contact = cc_sandbox.contact_by_email(email)
        assert contact is not None
        assert rows_out[email]["contact_id"] == contact["contact_id"]
        assert rows_out[email]["action"] == "created"
    assert rows_out["not-an-email"]["contact_id"] == ""
    assert rows_out["not-an-email"]["action"] != "created"
    assert len(cc_sandbox.contacts) == 3
