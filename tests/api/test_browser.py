"""In Chromium: the API docs page renders under the app's Content-Security-Policy, and the
token page's create-once flow works with the keyboard."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_docs_page_renders_the_operations_without_policy_violations(page, live_server):
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    response = page.goto("/api/v1/docs")
    assert response is not None and response.status == 200
    page.get_by_text(
        "/api/v1/projects/{project_id}/operations/{operation_id}/runs"
    ).first.wait_for()
    assert page.get_by_text("Integration Designer API").first.is_visible()
    assert violations == []


def test_create_a_token_in_the_browser(page, login, personas, project):
    login(page, "editor")
    page.goto("/projects/")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Deploy job")
    page.get_by_label("Run (start, cancel").check()
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("Token").input_value()
    assert token.startswith("idt_")
    assert page.get_by_role("cell", name="Deploy job").is_visible()
    page.goto("/account/api-tokens/")
    assert token not in page.content()


def test_set_up_and_rotate_a_trigger_from_the_run_settings_page(page, login, personas, project):
    from tests.runs.conftest import make_operation

    operation = make_operation(project, name="Nightly import")
    login(page, "editor")
    page.goto(f"/projects/{project.pk}/operations/{operation.pk}/run-settings/")
    page.get_by_role("link", name="Set up an API trigger").click()
    page.get_by_label("Signed requests").check()
    page.get_by_role("button", name="Create trigger").click()
    url = page.get_by_role("textbox", name="URL").input_value()
    secret = page.get_by_label("Signing secret").input_value()
    assert "/api/v1/hooks/" in url and secret.startswith("whsec_")
    page.get_by_role("button", name="Rotate secret").click()
    assert page.get_by_role("textbox", name="URL").input_value() != url
    page.goto(f"/projects/{project.pk}/operations/{operation.pk}/api-trigger/")
    assert secret not in page.content() and url not in page.content()
    assert page.get_by_text("Signed requests").first.is_visible()
