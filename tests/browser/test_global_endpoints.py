"""Global endpoints in Chromium (issue 12): a staff user creates one in the console and tests
it against the Constant Contact sandbox; an editor of a project finds it in the palette's
Global endpoints tab and drags its Query type onto the canvas, which starts an operation
with the project's own Query activity on the global endpoint."""

from __future__ import annotations

from playwright.sync_api import expect

from designer.design.models import Activity, Connection, Operation, Step
from tests.design.browser_helpers import flash, open_designer
from tests.factories import UserFactory
from tests.fixtures.sandbox import CC_CLIENT_ID


def test_staff_share_an_endpoint_and_an_editor_builds_on_it(
    page, login, personas, project, cc_allowed
):
    tokens = cc_allowed.issue_tokens(CC_CLIENT_ID)
    UserFactory(username="staffer", is_staff=True)
    login(page, "staffer")
    page.goto("/console/")
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Global endpoints"
    ).click()
    expect(page.get_by_role("heading", name="Global endpoints", level=1)).to_be_visible()
    page.get_by_role("link", name="New Constant Contact endpoint").click()
    form = page.locator("#connection-form")
    form.get_by_label("Name").fill("Shared CC")
    form.get_by_label("API key (client ID)").fill(CC_CLIENT_ID)
    form.get_by_label("Authentication").select_option("token")
    form.get_by_label("Access token").fill(tokens["access_token"])
    form.get_by_label("API base URL").fill(cc_allowed.api_base_url)
    expect(form.get_by_label("All projects")).to_be_checked()
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Shared CC", level=1)).to_be_visible()
    expect(page.locator("#used-by")).to_contain_text("No project has activities on it yet.")
    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.locator("#connection-status")).to_contain_text("Connected")
    shared = Connection.objects.get(name="Shared CC")
    assert shared.is_global and shared.project_id is None
    assert tokens["access_token"] not in page.content()
    page.get_by_role("button", name="Log out").click()

    open_designer(page, login, project)  # the project's editor
    page.get_by_role("tab", name="Global endpoints").click()
    panel = page.locator("#panel-global-endpoints")
    expect(panel.get_by_text("Shared CC")).to_be_visible()
    query = panel.locator(
        f'[data-drag="type"][data-connection="{shared.pk}"][data-activity-type="query"]'
    )
    viewport = page.locator("#board-viewport")
    box = viewport.bounding_box()
    query.drag_to(viewport, target_position={"x": box["width"] - 120, "y": box["height"] - 80})
    expect(flash(page)).to_contain_text("“New Operation”")
    activity = Activity.objects.get(connection=shared)
    assert activity.project_id == project.pk
    operation = Operation.objects.get(project=project, name="New Operation")
    assert list(Step.objects.filter(operation=operation).values_list("activity_id", flat=True)) == [
        activity.pk
    ]
    # The tab refreshed itself: the project's new activity under the global endpoint.
    expect(panel.locator(f'[data-drag="activity"][data-activity="{activity.pk}"]')).to_be_visible()
    assert tokens["access_token"] not in page.content()
    # The project can't open the endpoint itself: its name is no button there.
    expect(panel.get_by_role("button", name="Open endpoint Shared CC")).to_have_count(0)
