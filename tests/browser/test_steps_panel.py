"""A step's panel in Chromium, by keyboard: open a Script step from the card, type the script,
Save (the card shows it), Test/Preview (records in -> out, the dropped one said so); a
source's preview shows its first records. The axe fixture checks each state."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.design.models import Operation, Step, Workflow
from designer.design.step_services import step_add
from tests.browser.test_steps_keyboard import dialog_ready, press_until
from tests.design.browser_helpers import flash, open_designer
from tests.factories import ActivityFactory, ConnectionFactory

ROWS = "email,first_name\nann@example.com,Ann\nbob@example.com,Bob\n,Nobody\n"


@pytest.fixture
def sync(project, personas, settings, tmp_path):
    settings.FILES_ROOT = tmp_path / "files"
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    people = ActivityFactory(
        connection=files, activity_type="inline", name="People", config={"data": ROWS}
    )
    operation = Operation.objects.create(
        project=project, workflow=Workflow.objects.get(project=project), name="Sync"
    )
    user = personas["editor"]
    source = step_add(project=project, user=user, operation=operation, activity=people)
    script = step_add(project=project, user=user, operation=operation, tool="script")
    return {"operation": operation, "source": source, "script": script}


def test_a_script_configured_and_previewed_by_keyboard(page, login, project, sync):
    open_designer(page, login, project)
    press_until(page, "Tab", "of Sync", max_keys=120)
    press_until(page, "ArrowRight", "Step 2, Script")
    page.keyboard.press("Enter")
    dialog = dialog_ready(page)
    expect(dialog.get_by_role("heading", name="Step 2: Script")).to_be_visible()
    press_until(page, "Tab", "Script", exact=True)  # the text box, by its label
    page.keyboard.type("skip if not email\nname = first_name | upper")
    press_until(page, "Tab", "Save", exact=True)
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("Saved step 2 “Script” of “Sync”.")
    expect(page.locator(f"#step-{sync['script'].pk}")).to_contain_text("skip if not email")
    assert Step.objects.get(pk=sync["script"].pk).config == {
        "script": "skip if not email\nname = first_name | upper"
    }
    # Open it again and try it on the source's first records.
    page.locator(f"#step-{sync['script'].pk} .step-name").press("Enter")
    dialog = dialog_ready(page)
    press_until(page, "Tab", "Test/Preview", exact=True)
    page.keyboard.press("Enter")
    preview = dialog.locator("#step-preview")
    expect(preview).to_contain_text("3 records in, 2 out.")
    expect(preview).to_contain_text('"name": "ANN"')
    expect(preview).to_contain_text("dropped by the script")


def test_a_source_preview_shows_its_records(page, login, project, sync):
    open_designer(page, login, project)
    page.locator(f"#step-{sync['source'].pk} .step-name").press("Enter")
    dialog = dialog_ready(page)
    dialog.get_by_role("button", name="Test/Preview").press("Enter")
    expect(dialog.locator("#step-preview")).to_contain_text("0 records in, 3 out.")
    expect(dialog.locator(".preview-row")).to_have_count(3)
