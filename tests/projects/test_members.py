from __future__ import annotations

import pytest
from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.projects.models import Membership, Role
from tests.factories import UserFactory


def url(name, project, *args):
    return reverse(f"projects:{name}", args=[project.pk, *args])


def membership(project, username):
    return Membership.objects.get(project=project, user__username=username)


def test_admin_invites_by_username_and_by_email(client_for, project):
    UserFactory(username="dana", email="Dana@Example.com")
    UserFactory(username="erin")
    client = client_for("admin")
    response = client.post(
        url("member_invite", project), {"username_or_email": "erin", "role": "editor"}
    )
    assert response.status_code == 302
    assert membership(project, "erin").role == Role.EDITOR
    response = client.post(
        url("member_invite", project),
        {"username_or_email": "dana@example.com", "role": "operator"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"dana added as Operator" in response.content
    assert b"<html" not in response.content
    assert membership(project, "dana").role == Role.OPERATOR
    entry = AuditEntry.objects.filter(action="member_add").first()
    assert (entry.actor_name, entry.component_name, entry.after) == (
        "admin",
        "dana",
        {"role": "operator"},
    )


def test_invite_unknown_user_or_existing_member_is_refused_clearly(client_for, project):
    client = client_for("admin")
    response = client.post(
        url("member_invite", project),
        {"username_or_email": "nobody", "role": "viewer"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "No user “nobody” on this installation" in response.content.decode()
    response = client.post(
        url("member_invite", project),
        {"username_or_email": "viewer", "role": "admin"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert b"viewer is already a member" in response.content
    assert membership(project, "viewer").role == Role.VIEWER


def test_admin_changes_a_role_and_removes_a_member(client_for, project):
    client = client_for("admin")
    viewer = membership(project, "viewer")
    response = client.post(url("member_role", project, viewer.pk), {"role": "editor"})
    assert response.status_code == 302
    assert membership(project, "viewer").role == Role.EDITOR
    entry = AuditEntry.objects.get(action="member_role")
    assert (entry.before, entry.after) == ({"role": "viewer"}, {"role": "editor"})
    response = client.post(url("member_remove", project, viewer.pk))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert AuditEntry.objects.filter(action="member_remove", component_name="viewer").exists()


def test_the_last_admin_cant_be_demoted_or_removed(client_for, project):
    client = client_for("admin")
    admin = membership(project, "admin")
    response = client.post(
        url("member_role", project, admin.pk), {"role": "viewer"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert b"admin is the last Admin" in response.content
    response = client.post(url("member_remove", project, admin.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert b"last Admin and can" in response.content
    assert membership(project, "admin").role == Role.ADMIN


def test_with_a_second_admin_the_first_can_step_down(client_for, project):
    editor = membership(project, "editor")
    client = client_for("admin")
    client.post(url("member_role", project, editor.pk), {"role": "admin"})
    response = client.post(
        url("member_role", project, membership(project, "admin").pk), {"role": "viewer"}
    )
    assert response.status_code == 302
    assert membership(project, "admin").role == Role.VIEWER
    # The remaining admin is now the last one.
    response = client_for("editor").post(url("member_remove", project, editor.pk))
    assert Membership.objects.filter(pk=editor.pk, role=Role.ADMIN).exists()


@pytest.mark.parametrize("persona", ["editor", "operator", "viewer"])
def test_only_admins_manage_members(client_for, project, persona):
    UserFactory(username="erin")
    client = client_for(persona)
    viewer = membership(project, "viewer")
    assert (
        client.post(
            url("member_invite", project), {"username_or_email": "erin", "role": "admin"}
        ).status_code
        == 403
    )
    assert client.post(url("member_role", project, viewer.pk), {"role": "admin"}).status_code == 403
    assert client.post(url("member_remove", project, viewer.pk)).status_code == 403
    assert not Membership.objects.filter(user__username="erin").exists()
    assert membership(project, "viewer").role == Role.VIEWER


def test_outsider_cant_touch_members(client_for, project):
    response = client_for("outsider").post(
        url("member_remove", project, membership(project, "viewer").pk)
    )
    assert response.status_code == 404
    assert Membership.objects.filter(project=project).count() == 4


def test_membership_of_another_project_is_not_reachable(client_for, project):
    from tests.factories import MembershipFactory

    other = MembershipFactory(role=Role.VIEWER)
    response = client_for("admin").post(
        url("member_remove", project, other.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert Membership.objects.filter(pk=other.pk).exists()


def test_settings_page_shows_management_only_to_admins(client_for, project):
    admin_html = client_for("admin").get(url("settings", project)).content.decode()
    assert "Invite a member" in admin_html and "Change role" in admin_html
    viewer_html = client_for("viewer").get(url("settings", project)).content.decode()
    assert "Invite a member" not in viewer_html and "Change role" not in viewer_html
