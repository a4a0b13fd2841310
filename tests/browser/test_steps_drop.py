"""Steps with the real mouse (Chromium, HTML5 drag and drop): a tool dropped on a "+" gap goes
between two steps; an activity dropped on a card goes at the end of its chain; an activity
dropped on the empty canvas starts a new operation; a refused drop says why and changes
nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.design.models import Operation, Step, Workflow
from designer.design.step_services import step_add
from tests.design.browser_helpers import card, endpoint, flash, open_designer
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("fake_connector")


def kinds(operation: Operation) -> list[str]:
    return list(
        Step.objects.filter(operation=operation, parent=None)
        .order_by("position")
        .values_list("kind", flat=True)
    )


@pytest.fixture
def sync(project, personas):
    things = endpoint(project)
    workflow = Workflow.objects.get(project=project)
    operation = Operation.objects.create(
        project=project, workflow=workflow, name="Sync", position_x=40, position_y=40
    )
    for activity in (things["query"], things["create"]):
        step_add(project=project, user=personas["editor"], operation=operation, activity=activity)
    return {"operation": operation, **things}


def test_a_tool_dropped_between_two_steps(page, login, project, sync):
    open_designer(page, login, project)
    page.get_by_role("tab", name="Tools").click()
    script = page.locator('[data-drag="tool"][data-tool="script"]')
    gap = card(page, "Sync").locator('.step-gap[data-drop-position="1"]')
    script.drag_to(gap)
    expect(flash(page)).to_contain_text("Added script “Script” as step 2 of “Sync”.")
    assert kinds(sync["operation"]) == ["source", "script", "target"]
    steps = card(page, "Sync").locator("ol.steps > li.step")
    expect(steps).to_have_count(3)
    expect(steps.nth(1)).to_contain_text("Script")


def test_an_activity_dropped_on_a_card_goes_at_the_end(page, login, project, personas, sync):
    update = sync["connection"].activities.create(
        project=project, activity_type="update", name="Change contact"
    )
    open_designer(page, login, project)
    activity = page.locator(f'[data-drag="activity"][data-activity="{update.pk}"]')
    activity.drag_to(card(page, "Sync").locator(".step-detail").first)
    expect(flash(page)).to_contain_text("Added target “Change contact” as step 3 of “Sync”.")
    assert kinds(sync["operation"]) == ["source", "target", "target"]


def test_a_refused_drop_says_why(page, login, project, sync):
    open_designer(page, login, project)
    activity = page.locator(f'[data-drag="activity"][data-activity="{sync["query"].pk}"]')
    activity.drag_to(card(page, "Sync").locator('.step-gap[data-drop-position="1"]'))
    expect(flash(page)).to_contain_text("A source can only be the first step of an operation")
    assert kinds(sync["operation"]) == ["source", "target"]


def test_an_activity_dropped_on_the_empty_canvas_starts_an_operation(page, login, project, sync):
    open_designer(page, login, project)
    activity = page.locator(f'[data-drag="activity"][data-activity="{sync["query"].pk}"]')
    viewport = page.locator("#board-viewport")
    box = viewport.bounding_box()
    activity.drag_to(viewport, target_position={"x": box["width"] - 120, "y": box["height"] - 80})
    expect(flash(page)).to_contain_text("Added source “All contacts” as step 1 of “New Operation”.")
    new = Operation.objects.get(name="New Operation")
    assert kinds(new) == ["source"]
    assert new.position_x > 200  # where it was dropped, not the default column
    expect(card(page, "New Operation")).to_be_visible()


def test_a_step_dragged_to_another_operation_and_moved_back_by_keyboard(
    page, login, project, personas, sync
):
    workflow = Workflow.objects.get(project=project)
    other = Operation.objects.create(
        project=project, workflow=workflow, name="Other", position_x=40, position_y=400
    )
    step_add(project=project, user=personas["editor"], operation=other, activity=sync["query"])
    open_designer(page, login, project)
    target = Step.objects.get(operation=sync["operation"], kind="target")
    step = page.locator(f"#step-{target.pk}")
    step.drag_to(card(page, "Other").locator(".step-gap-end"))
    expect(flash(page)).to_contain_text("Moved target “Add contact” to step 2 of “Other”.")
    assert kinds(sync["operation"]) == ["source"] and kinds(other) == ["source", "target"]
    # Back with the keyboard: its "Move…" button, then the dialog.
    moved = Step.objects.get(operation=other, kind="target")
    page.locator(f"#step-{moved.pk} .step-name").focus()
    page.keyboard.press("ArrowDown")  # from the step's name to its actions
    move = page.locator(f"#step-{moved.pk}").get_by_role(
        "button", name="Move step 2, Add contact", exact=True
    )
    expect(move).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.locator("#designer-dialog")
    expect(dialog.get_by_role("heading")).to_contain_text("Move step 2, “Add contact”, to")
    expect(page.locator("#dialog-body.htmx-settling, #dialog-body .htmx-added")).to_have_count(0)
    page.keyboard.type("Sync")
    expect(dialog.get_by_label("Place")).to_contain_text("At the end (after step 1)")
    dialog.get_by_role("button", name="Move").press("Enter")
    expect(flash(page)).to_contain_text("Moved target “Add contact” to step 2 of “Sync”.")
    assert kinds(sync["operation"]) == ["source", "target"] and kinds(other) == ["source"]


def test_an_activity_type_dropped_on_a_card_makes_the_activity(page, login, project, sync):
    open_designer(page, login, project)
    kind = page.locator('[data-drag="type"][data-activity-type="delete"]')
    kind.drag_to(card(page, "Sync").locator(".step-gap-end"))
    expect(flash(page)).to_contain_text("Added target “Delete” as step 3 of “Sync”.")
    step = Step.objects.get(operation=sync["operation"], position=2)
    assert step.activity.activity_type == "delete" and step.activity.name == "Delete"
    # The palette lists the new activity (answered in the same response).
    expect(
        page.locator(f'[data-drag="activity"][data-activity="{step.activity_id}"]')
    ).to_be_visible()
