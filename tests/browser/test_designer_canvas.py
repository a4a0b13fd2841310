"""The canvas in a real browser: HTML5 drag and drop, refusals, the keyboard way, duplicate,
undo; every change is saved by an htmx request and survives a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.design.models import Activity, Operation
from tests.design.browser_helpers import card, endpoint, flash, open_designer, operation
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("fake_connector")


def palette_type(page, key: str):
    return page.locator(f'[data-drag="type"][data-activity-type="{key}"]')


def palette_activity(page, activity: Activity):
    return page.locator(f'[data-drag="activity"][data-activity="{activity.pk}"]')


def test_drag_an_activity_type_to_empty_canvas_makes_an_operation(page, login, personas, project):
    endpoint(project)
    open_designer(page, login, project)
    palette_type(page, "query").drag_to(page.locator("[data-drop-new]"))
    expect(card(page, "New Operation")).to_be_visible()
    source = card(page, "New Operation").locator('[data-drop-slot="source"]')
    expect(source).to_contain_text("Query")
    op = Operation.objects.get()
    assert op.source.activity_type == "query" and op.target is None
    page.reload()
    expect(card(page, "New Operation").locator('[data-drop-slot="source"]')).to_contain_text(
        "Query"
    )


def test_drag_onto_a_drop_zone_takes_that_place(page, login, personas, project):
    things = endpoint(project)
    operation(project, "Sync", source=things["query"])
    open_designer(page, login, project)
    target = card(page, "Sync").locator('[data-drop-slot="target"]')
    palette_activity(page, things["create"]).drag_to(target)
    expect(target).to_contain_text("Add contact")
    # Source, transformation, target left to right; the transformation was made for it.
    steps = card(page, "Sync").locator(".steps > li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("All contacts")
    expect(steps.nth(1)).to_contain_text("Sync")
    expect(steps.nth(2)).to_contain_text("Add contact")
    expect(card(page, "Sync")).to_contain_text("Not run yet")
    page.reload()
    expect(card(page, "Sync").locator('[data-drop-slot="target"]')).to_contain_text("Add contact")


def test_invalid_placements_are_refused_with_the_reason(page, login, personas, project):
    things = endpoint(project)
    other = Activity.objects.create(
        project=project, connection=things["connection"], activity_type="query", name="Other"
    )
    operation(project, "Sync", source=things["query"])
    open_designer(page, login, project)
    sync = card(page, "Sync")
    palette_activity(page, other).drag_to(sync.locator('[data-drop-slot="source"]'))
    expect(flash(page)).to_contain_text(
        "“Sync” already has a source, “All contacts”: an operation has only one source."
    )
    palette_activity(page, other).drag_to(sync.locator('[data-drop-slot="target"]'))
    expect(flash(page)).to_contain_text(
        "“Other” is a source activity: it can't go in the target place of “Sync”."
    )
    op = Operation.objects.get(name="Sync")
    assert op.source == things["query"] and op.target is None


def test_steps_move_between_operations_by_drag_and_are_removed(page, login, personas, project):
    things = endpoint(project)
    operation(project, "First", target=things["create"])
    operation(project, "Second", source=things["query"])
    open_designer(page, login, project)
    step = card(page, "First").locator('[data-drag="step"]')
    step.drag_to(card(page, "Second").locator('[data-drop-slot="target"]'))
    expect(card(page, "Second").locator('[data-drop-slot="target"]')).to_contain_text("Add contact")
    expect(card(page, "First").locator('[data-drop-slot="target"]')).to_contain_text(
        "Drop a target activity here"
    )
    card(page, "Second").get_by_role("button", name="Remove Add contact from Second").click()
    expect(card(page, "Second").locator('[data-drop-slot="target"]')).to_contain_text(
        "Drop a target activity here"
    )
    assert Operation.objects.get(name="Second").target is None


def test_add_to_operation_without_dragging_by_keyboard(page, login, personas, project):
    things = endpoint(project)
    operation(project, "Sync", source=things["query"])
    open_designer(page, login, project)
    menu = page.get_by_label("Actions for Add contact")
    menu.focus()
    page.keyboard.press("Enter")  # opens the ⋯ menu
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Add to operation…")
    page.keyboard.press("Enter")
    dialog = page.locator("#designer-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Add “Add contact” to an operation")
    expect(dialog.get_by_label("Operation")).to_be_focused()
    dialog.get_by_label("Operation").select_option(label="Sync")
    page.keyboard.press("Tab")  # Place: its role (target) is preselected
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Add")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(card(page, "Sync").locator('[data-drop-slot="target"]')).to_contain_text("Add contact")
    assert Operation.objects.get(name="Sync").target == things["create"]


def test_duplicate_and_undo_several_steps(page, login, personas, project):
    things = endpoint(project)
    operation(project, "Sync", source=things["query"])
    open_designer(page, login, project)
    palette_activity(page, things["create"]).drag_to(
        card(page, "Sync").locator('[data-drop-slot="target"]')
    )
    expect(card(page, "Sync").locator('[data-drop-slot="target"]')).to_contain_text("Add contact")
    card(page, "Sync").get_by_label("Actions for operation Sync").click()
    card(page, "Sync").get_by_role("button", name="Duplicate").click()
    expect(card(page, "Sync copy")).to_be_visible()
    expect(card(page, "Sync copy").locator(".step.transformation")).to_contain_text("Sync copy")

    page.get_by_label("Actions for Add contact").first.click()
    page.get_by_role("button", name="Duplicate").first.click()
    expect(page.get_by_role("button", name="Open activity Add contact copy")).to_be_visible()

    undo = page.get_by_role("button", name="Undo")
    undo.click()  # the activity copy
    expect(page.get_by_role("button", name="Open activity Add contact copy")).to_have_count(0)
    undo.click()  # the operation copy
    expect(card(page, "Sync copy")).to_have_count(0)
    undo.click()  # the drop
    expect(card(page, "Sync").locator('[data-drop-slot="target"]')).to_contain_text(
        "Drop a target activity here"
    )
    expect(page.get_by_role("button", name="Undo")).to_be_disabled()
    page.reload()
    expect(card(page, "Sync").locator('[data-drop-slot="target"]')).to_contain_text(
        "Drop a target activity here"
    )
    assert Operation.objects.count() == 1


def test_move_a_step_without_dragging(page, login, personas, project):
    things = endpoint(project)
    operation(project, "First", source=things["query"])
    operation(project, "Second")
    open_designer(page, login, project)
    move = card(page, "First").get_by_role("button", name="Move All contacts to another operation")
    move.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#designer-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Move “All contacts” to an operation")
    dialog.get_by_label("Operation").select_option(label="Second")
    dialog.get_by_role("button", name="Move").press("Enter")
    expect(dialog).to_be_hidden()
    expect(card(page, "Second").locator('[data-drop-slot="source"]')).to_contain_text(
        "All contacts"
    )
    expect(card(page, "First").locator('[data-drop-slot="source"]')).to_contain_text(
        "Drop a source activity here"
    )
