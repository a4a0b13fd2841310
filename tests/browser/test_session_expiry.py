"""Issue 16.9: htmx requests from a signed-out browser send it to the login page (HX-Redirect),
never a login page swapped into a corner of the designer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.design.models import Operation
from tests.design.browser_helpers import open_designer
from tests.fixtures.browser import PASSWORD


@pytest.mark.parametrize(
    "cookies",
    [
        pytest.param({"name": "sessionid"}, id="session-expired"),
        pytest.param({}, id="all-cookies-gone"),  # the CSRF check refuses first
    ],
)
def test_an_expired_session_goes_to_the_login_page_and_back(
    page, login, personas, project, cookies
):
    open_designer(page, login, project)
    designer_url = page.url
    page.context.clear_cookies(**cookies)

    page.get_by_role("button", name="New operation").click()
    page.wait_for_url("**/accounts/login/**")
    expect(page.get_by_role("button", name="Log in")).to_have_count(1)
    expect(page.locator(".topbar form#login-form, .topbar input[name=password]")).to_have_count(0)
    assert not Operation.objects.filter(project=project).exists()

    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(designer_url)
    expect(page.get_by_role("region", name="Design canvas")).to_be_visible()


@pytest.mark.parametrize("partial", ["panes/palette/", "presence/"])
def test_the_htmx_answer_to_a_signed_out_request_is_a_client_redirect(client, project, partial):
    response = client.get(
        f"/projects/{project.pk}/{partial}",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver/projects/{project.pk}/",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/accounts/login/?next=/projects/{project.pk}/"
    assert b"password" not in response.content.lower()


def test_redirects_other_than_to_the_login_page_are_left_alone(client_for, project):
    response = client_for("editor").post(
        f"/projects/{project.pk}/variables/",
        {"name": "region", "value": "eu"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver/projects/{project.pk}/settings/",
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/settings/#variables")
    assert "HX-Redirect" not in response
