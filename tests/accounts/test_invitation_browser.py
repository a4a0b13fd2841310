"""In Chromium: a project Admin invites an email with no account; the invited person opens
the link from the message the SMTP server received, sets a password and lands in the project
with the invited role."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from designer.projects.models import Membership, Role

pytestmark = pytest.mark.browser


def test_invite_by_email_then_follow_the_link_and_land_in_the_project(
    browser, page, login, personas, project, smtp_server, live_server, settings
):
    settings.SITE_URL = live_server.url  # links in the mail point at this server
    login(page, "admin")
    page.goto(f"/projects/{project.pk}/settings/")
    members = page.locator("#members")
    page.get_by_label("Username or email").fill("newcomer@example.org")
    members.locator("form.invite").get_by_label("Role").select_option("editor")
    page.get_by_role("button", name="Invite").click()
    expect(members.get_by_role("status")).to_contain_text("has no account yet")
    expect(members.locator(".pending-invitations")).to_contain_text("newcomer@example.org")

    mail = smtp_server.wait_for(1)[-1]
    assert mail.envelope_to == ["newcomer@example.org"]
    [link] = [u for u in mail.links() if "/accounts/invitations/" in u]
    assert link.startswith(live_server.url)

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    invited = context.new_page()
    try:
        invited.goto(link)
        expect(invited.get_by_role("heading", name="Create your account")).to_be_visible()
        expect(invited.get_by_text("Acme sync: Editor")).to_be_visible()
        invited.get_by_label("Username").fill("newcomer")
        invited.locator("#id_password1").fill("plum tree lantern 42")
        invited.locator("#id_password2").fill("plum tree lantern 42")
        invited.get_by_role("button", name="Create account").click()
        invited.wait_for_url(f"**/projects/{project.pk}/")
        expect(invited.get_by_text("Welcome, newcomer")).to_be_visible()
        expect(invited).to_have_title(re.compile(r"^Acme sync · Designer"))
        membership = Membership.objects.get(project=project, user__username="newcomer")
        assert membership.role == Role.EDITOR
        # The link was single-use.
        invited.goto(link)
        expect(invited.get_by_role("alert")).to_contain_text("already been used")
    finally:
        context.close()
    page.reload()
    expect(page.locator("#members")).to_contain_text("newcomer")
    expect(page.locator(".pending-invitations")).to_have_count(0)
