"""Issue 16.10, what axe-core's WCAG rules (run in every browser test, tests/browser/axe.py)
don't cover: the designer's structure, unique ids, named table headers, reflow at 320 px."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from designer.projects.models import Variable
from tests.browser.axe import AXE_JS
from tests.design.browser_helpers import endpoint, open_designer, operation
from tests.design.conftest import fake_connector  # noqa: F401  (fixture)


def test_axe_is_vendored_and_runs_in_the_page(page, login, personas, project):
    assert AXE_JS.exists()
    login(page, "viewer")
    page.goto(f"/projects/{project.pk}/")
    version = page.evaluate("() => window.axe && window.axe.version")
    assert version == "4.14.1"


def test_the_axe_fixture_fails_a_page_with_a_violation(browser, live_server, personas):
    """The fixture's own check: an image without alternative text is reported."""
    from tests.browser.axe import AxeWatch

    context = browser.new_context(base_url=live_server.url)
    axe = AxeWatch()
    axe.install(context, live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate(
        "() => { const i = document.createElement('img'); i.src = '/static/favicon.ico';"
        " document.querySelector('main').appendChild(i);"
        " document.dispatchEvent(new Event('htmx:afterSettle')); }"
    )
    axe.finish(page)
    context.close()
    assert "image-alt" in (axe.failure() or "")


@pytest.mark.usefixtures("fake_connector")
def test_the_designer_has_a_heading_and_a_skip_link_to_the_canvas(page, login, personas, project):
    endpoint(project)
    open_designer(page, login, project)
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme sync")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to canvas")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#designer-canvas")).to_be_focused()


def test_settings_has_unique_ids_and_named_table_headers(page, login, personas, project):
    Variable.objects.create(project=project, name="region", value="eu")
    login(page, "admin")
    page.goto(f"/projects/{project.pk}/settings/")
    expect(page.get_by_role("heading", name="Rename")).to_be_visible()
    duplicates = page.evaluate(
        """() => {
          const seen = {};
          document.querySelectorAll('[id]').forEach((e) => { seen[e.id] = (seen[e.id] || 0) + 1; });
          return Object.keys(seen).filter((id) => seen[id] > 1);
        }"""
    )
    assert duplicates == []
    empty = page.evaluate(
        "() => [...document.querySelectorAll('th')].filter(th => !th.textContent.trim()).length"
    )
    assert empty == 0


@pytest.mark.usefixtures("fake_connector")
@pytest.mark.parametrize("path", ["/projects/", "/projects/{pk}/", "/projects/{pk}/settings/"])
def test_pages_reflow_at_320_px_without_sideways_scrolling(page, login, personas, project, path):
    things = endpoint(project)
    operation(project, "Nightly sync", source=things["query"], target=things["create"])
    login(page, "admin")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(path.format(pk=project.pk))
    page.wait_for_load_state("networkidle")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320, f"{path} is {width} px wide at a 320 px window"
    # The top bar keeps its dark background (and so its contrast) when it wraps.
    topbar = page.locator(".topbar")
    box = topbar.bounding_box()
    assert box and box["width"] <= 320
    colour = topbar.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(23, 33, 43)"


@pytest.mark.usefixtures("fake_connector")
def test_operation_cards_do_not_overlap_at_a_640_px_window(page, login, personas, project):
    things = endpoint(project)
    operation(project, "Nightly sync", source=things["query"], target=things["create"])
    page.set_viewport_size({"width": 640, "height": 800})
    open_designer(page, login, project)
    steps = page.locator(".operation .step")
    boxes = [steps.nth(i).bounding_box() for i in range(steps.count())]
    for a, b in itertools.pairwise(boxes):
        overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
        overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
        assert overlap_x <= 0 or overlap_y <= 0, "two steps of a card overlap"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 640


@pytest.mark.usefixtures("fake_connector")
def test_the_side_panes_fold_away_at_a_narrow_window(page, login, personas, project):
    endpoint(project)
    page.set_viewport_size({"width": 640, "height": 800})
    open_designer(page, login, project)
    search = page.get_by_label("Search endpoints and connectors")
    expect(search).to_be_visible()
    canvas_top = page.locator("#designer-canvas").bounding_box()["y"]
    toggle = page.get_by_role("button", name="Hide design component palette")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(search).to_be_hidden()
    shown = page.get_by_role("button", name="Show design component palette")
    expect(shown).to_have_attribute("aria-expanded", "false")
    assert page.locator("#designer-canvas").bounding_box()["y"] < canvas_top
    page.get_by_role("button", name="Hide project pane").click()
    expect(page.get_by_role("tab", name="Components")).to_be_hidden()
    shown.click()
    expect(search).to_be_visible()


def test_the_pane_buttons_are_not_shown_on_a_wide_window(page, login, personas, project):
    open_designer(page, login, project)
    expect(page.locator(".pane-toggle")).to_have_count(2)
    expect(page.locator(".pane-toggle").first).to_be_hidden()
