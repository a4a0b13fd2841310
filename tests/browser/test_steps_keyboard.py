"""Steps with the keyboard only, in Chromium: the palette and each operation's steps are one
tab stop each (roving tabindex); arrows reach an activity's menu in a few keys; the "Add a
step" dialog places activities and tools anywhere in the chain; refusals are announced with
the reason; focus follows the new step."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from designer.design.models import Operation, Step
from tests.design.browser_helpers import endpoint, open_designer
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("fake_connector")
MAX_KEYS = 40  # a guard: no test loops forever looking for a control


def focused_name(page: Page) -> str:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el) return "";
          const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
          return (el.getAttribute("aria-label") || label || el.textContent || "").trim();
        }"""
    )


def press_until(
    page: Page, key: str, wanted: str, *, exact: bool = False, max_keys: int = MAX_KEYS
) -> int:
    """Press ``key`` until the focused control's name contains ``wanted`` (or is it, with
    ``exact``); how many presses."""
    for count in range(1, max_keys + 1):
        page.keyboard.press(key)
        name = focused_name(page)
        if (name == wanted) if exact else (wanted in name):
            return count
    raise AssertionError(f"{wanted!r} not reached with {key}; focus is on {focused_name(page)!r}")


def tab_to_search(page: Page) -> int:
    return press_until(page, "Tab", "Search endpoints and connectors")


def dialog_ready(page: Page):
    """The side dialog, shown and wired: htmx wires the dialog's form once the swap has
    settled (~20 ms after it shows); a keyboard faster than that would post the form the old
    way, or change a select nobody listens to yet."""
    dialog = page.locator("#designer-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#dialog-body.htmx-settling, #dialog-body .htmx-added")).to_have_count(0)
    return dialog


def add_with_dialog(page: Page, what: str | None = None, *, refused: bool = False) -> None:
    """In the open "Add" dialog: choose what (typed into the select), keep the preset
    operation and place, press Add; the dialog closes (or stays, when ``refused``)."""
    dialog = dialog_ready(page)
    if what is not None:
        expect(dialog.get_by_label("Step")).to_be_focused()
        page.keyboard.type(what)
    press_until(page, "Tab", "Add", exact=True)
    page.keyboard.press("Enter")
    if refused:
        expect(dialog.get_by_role("alert")).to_be_visible()
    else:
        expect(dialog).to_be_hidden()


def test_reaching_an_activitys_menu_takes_a_few_keys(page, login, personas, project):
    things = endpoint(project)
    for i in range(12):  # a long palette: a dozen more activities before the one we want
        things["connection"].activities.create(
            project=project, activity_type="query", name=f"Query {i:02d}"
        )
    open_designer(page, login, project)
    tab_to_search(page)
    # One Tab enters the palette's list, the next one leaves it: it is one tab stop.
    page.keyboard.press("Tab")
    first = focused_name(page)
    assert "Open endpoint CRM" in first
    page.keyboard.press("Tab")
    assert "Open endpoint" not in focused_name(page) and "Query" not in focused_name(page)
    # Back in, the search narrows the list and ArrowDown goes to the first match.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert "Search endpoints" in focused_name(page)
    page.keyboard.type("add contact")
    keys = press_until(page, "ArrowDown", "Open activity Add contact")
    keys += press_until(page, "ArrowRight", "Actions for Add contact")
    page.keyboard.press("Enter")
    keys += 1
    expect(page.get_by_role("button", name="Add to operation…").first).to_be_visible()
    assert keys <= 6, keys
    # Escape closes the menu and gives the focus back to its ⋯.
    page.keyboard.press("Escape")
    assert "Actions for Add contact" in focused_name(page)
    # Without the search box: from the page's top, Tab into the palette's list, type the
    # first letters of the name (type-ahead), ArrowRight, Enter.
    page.reload()
    keys = press_until(page, "Tab", "Open endpoint CRM")
    page.keyboard.type("ad")
    assert "Open activity Add contact" in focused_name(page)
    keys += 2 + press_until(page, "ArrowRight", "Actions for Add contact")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Add to operation…").first).to_be_visible()
    assert keys + 1 <= 14, keys  # the 61 controls before it used to be Tab stops


def test_an_operation_built_with_the_keyboard(page, login, personas, project):
    endpoint(project)
    open_designer(page, login, project)
    tab_to_search(page)
    page.keyboard.type("all contacts")
    press_until(page, "ArrowDown", "Open activity All contacts")
    press_until(page, "ArrowRight", "Actions for All contacts")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    assert focused_name(page) == "Add to operation…"
    page.keyboard.press("Enter")
    add_with_dialog(page)  # a new operation, All contacts its first step
    flash = page.locator("#designer-flash")
    expect(flash).to_contain_text("Added source “All contacts” as step 1 of “New Operation”.")
    # The focus is on the new step; right of it, the "+" at the end of the chain.
    assert "Step 1, Source: All contacts" in focused_name(page)
    press_until(page, "ArrowRight", "Add a step at the end of New Operation")
    page.keyboard.press("Enter")
    add_with_dialog(page, "Add contact")
    expect(flash).to_contain_text("as step 2 of “New Operation”")
    assert "Step 2, Target: Add contact" in focused_name(page)
    # A transformation between them: back to the "+" before step 2.
    press_until(page, "ArrowLeft", "Add a step before step 2 of New Operation")
    page.keyboard.press("Enter")
    add_with_dialog(page, "Transformation")
    expect(flash).to_contain_text("Added transformation “New Operation” as step 2")
    operation = Operation.objects.get()
    kinds = list(operation.steps.order_by("position").values_list("kind", flat=True))
    assert kinds == ["source", "transformation", "target"]
    # A refused placement says why, in the live region, and changes nothing.
    press_until(page, "Home", "Add a step before step 1 of New Operation")
    page.keyboard.press("Enter")
    add_with_dialog(page, "Add contact", refused=True)  # a target first: no records before it
    expect(page.locator("#step-add-message")).to_contain_text("A target needs records to write")
    assert Step.objects.filter(operation=operation).count() == 3
    page.keyboard.press("Escape")
    # The steps on the card, left to right.
    steps = page.locator(f"#steps-{operation.pk} > li.step")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("All contacts")
    expect(steps.nth(1)).to_contain_text("Transformation")
    expect(steps.nth(2)).to_contain_text("Add contact")


def test_a_tool_from_the_tools_tab_by_keyboard(page, login, personas, project):
    things = endpoint(project)
    Operation.objects.create(project=project, name="Sync")
    from designer.design.step_services import step_add

    step_add(
        project=project,
        user=personas["editor"],
        operation=Operation.objects.get(),
        activity=things["query"],
    )
    open_designer(page, login, project)
    press_until(page, "Tab", "Project endpoints and connectors")
    press_until(page, "ArrowRight", "Tools")
    expect(page.get_by_role("tabpanel", name="Tools")).to_be_visible()
    page.keyboard.press("Tab")
    assert focused_name(page) == "Add Transformation to an operation"
    press_until(page, "ArrowDown", "Add Script to an operation")
    page.keyboard.press("Enter")
    dialog = dialog_ready(page)
    expect(dialog.get_by_label("Operation")).to_be_focused()
    page.keyboard.type("Sync")
    expect(dialog.get_by_label("Place")).to_contain_text("At the end (after step 1)")
    add_with_dialog(page)
    expect(page.locator("#designer-flash")).to_contain_text("Added script “Script” as step 2")
    assert list(Step.objects.order_by("position").values_list("kind", flat=True)) == [
        "source",
        "script",
    ]


def test_delete_removes_the_focused_step(page, login, personas, project):
    things = endpoint(project)
    operation = Operation.objects.create(project=project, name="Sync")
    from designer.design.step_services import step_add

    for values in ({"activity": things["query"]}, {"tool": "script"}, {"tool": "script"}):
        step_add(project=project, user=personas["editor"], operation=operation, **values)
    open_designer(page, login, project)
    press_until(page, "Tab", "of Sync", max_keys=120)
    press_until(page, "ArrowRight", "Step 2, Script")
    page.keyboard.press("Delete")
    expect(page.locator("#designer-flash")).to_contain_text(
        "Removed step 2, “Script”, from “Sync”."
    )
    expect(page.locator(f"#steps-{operation.pk} > li.step")).to_have_count(2)
    # The focus stays where the step was: on the "+" before the step that moved left.
    page.wait_for_function("() => document.activeElement.closest('ol.steps')")
    assert "Add a step before step 2 of Sync" in focused_name(page)
    assert list(operation.steps.values_list("kind", flat=True)) == ["source", "script"]
