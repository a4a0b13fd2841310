"""The invite flow in a real browser: invite by email, change the role, remove, all by htmx."""

from __future__ import annotations

from playwright.sync_api import expect

from designer.projects.models import Membership, Role
from tests.factories import UserFactory


def test_admin_invites_changes_role_and_removes_a_member(page, login, personas, project):
    UserFactory(username="dana", email="dana@example.com")
    login(page, "admin")
    page.goto(f"/projects/{project.pk}/settings/")
    members = page.locator("#members")

    # A mistyped username: the error shows inline and nobody is added. (An unknown email
    # becomes a pending invitation: tests/accounts/.)
    page.get_by_label("Username or email").fill("danna")
    page.get_by_role("button", name="Invite").click()
    expect(members.locator("#id_username_or_email_error")).to_contain_text("No user “danna”")

    page.get_by_label("Username or email").fill("dana@example.com")
    members.locator("form.invite").get_by_label("Role").select_option("editor")
    page.get_by_role("button", name="Invite").click()
    expect(members.get_by_role("status")).to_have_text("dana added as Editor.")
    assert Membership.objects.get(project=project, user__username="dana").role == Role.EDITOR

    page.get_by_label("Role of dana", exact=True).select_option("operator")
    page.get_by_role("button", name="Change role of dana").click()
    expect(members.get_by_role("status")).to_have_text("dana is now Operator.")
    assert Membership.objects.get(project=project, user__username="dana").role == Role.OPERATOR

    # The last Admin can't demote themselves; the page says why.
    page.get_by_label("Role of admin", exact=True).select_option("viewer")
    page.get_by_role("button", name="Change role of admin").click()
    expect(members.get_by_role("alert")).to_contain_text("admin is the last Admin")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove dana").click()
    expect(members.get_by_role("status")).to_have_text("dana removed.")
    expect(members.get_by_text("dana@example.com")).to_have_count(0)
    assert not Membership.objects.filter(project=project, user__username="dana").exists()


def test_the_invited_member_sees_the_project(page, login, personas, project, client_for):
    UserFactory(username="erin", email="erin@example.com")
    client_for("admin").post(
        f"/projects/{project.pk}/members/invite/",
        {"username_or_email": "erin", "role": "viewer"},
    )
    login(page, "erin")
    expect(page.get_by_role("link", name="Acme sync")).to_be_visible()


def test_an_admin_who_demotes_themselves_gets_the_page_a_viewer_sees(
    page, login, personas, project
):
    """Issue 16.7: not the whole settings page swapped into the members card."""
    Membership.objects.filter(project=project, user__username="editor").update(role=Role.ADMIN)
    login(page, "admin")
    page.goto(f"/projects/{project.pk}/settings/")
    expect(page.get_by_role("heading", name="Rename")).to_be_visible()
    page.get_by_label("Role of admin", exact=True).select_option("viewer")
    page.get_by_role("button", name="Change role of admin").click()

    expect(page.get_by_role("heading", name="Rename")).to_have_count(0)
    expect(page.get_by_role("heading", name="Delete project")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)  # one page, not two nested
    expect(page.locator("#members")).to_have_count(1)
    expect(page.get_by_label("Role of admin", exact=True)).to_have_count(0)
    expect(page.get_by_text("admin is now Viewer.")).to_be_visible()
    assert Membership.objects.get(project=project, user__username="admin").role == Role.VIEWER


def test_an_admin_who_removes_themselves_lands_on_their_projects(page, login, personas, project):
    Membership.objects.filter(project=project, user__username="editor").update(role=Role.ADMIN)
    login(page, "admin")
    page.goto(f"/projects/{project.pk}/settings/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove admin").click()
    page.wait_for_url("**/projects/")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("link", name="Acme sync")).to_have_count(0)
    expect(page.get_by_text("admin removed.")).to_be_visible()
