"""Invitations by email, through a real SMTP server: console invites, project invites to an
email with no account (pending), the single-use 7-day link, resend and revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from designer.accounts.models import Invitation, ProjectInvitation
from designer.audit.models import AuditEntry
from designer.projects.models import Membership, Role
from tests.accounts.smtp import path_of
from tests.factories import UserFactory

NEW_PASSWORD = "plum tree lantern 42"


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """POST and run the after-commit callbacks (mail goes out after commit)."""

    def post(client, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {})

    return post


def invitation_link(smtp_server, email: str) -> str:
    mail = smtp_server.last_to(email)
    links = [link for link in mail.links() if "/accounts/invitations/" in link]
    assert len(links) == 1, mail.body
    return path_of(links[0])


def test_staff_invites_by_email_and_the_link_creates_the_account_once(
    console_client, smtp_server, send
):
    staff = console_client("staff")
    response = send(staff, reverse("console:user_invite"), {"email": "new@example.org"})
    assert response.status_code == 302
    mail = smtp_server.last_to("new@example.org")
    assert "invited you to Integration Designer" in mail.body and "7 days" in mail.body
    link = invitation_link(smtp_server, "new@example.org")
    invitation = Invitation.objects.get(email="new@example.org")
    assert invitation.sent_at is not None and invitation.send_count == 1
    # Only a hash is stored: the token is in the mail alone.
    assert link.rstrip("/").rsplit("/", 1)[1] not in invitation.token_hash

    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200 and b"new@example.org" in page.content
    weak = visitor.post(link, {"username": "newbie", "password1": "123", "password2": "123"})
    assert weak.status_code == 422 and b"too short" in weak.content  # Django's validators
    done = visitor.post(
        link, {"username": "newbie", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == reverse("projects:list")
    assert visitor.get(reverse("projects:list")).status_code == 200  # logged in
    invitation.refresh_from_db()
    assert invitation.status == "accepted" and invitation.accepted_user.username == "newbie"
    assert invitation.accepted_user.email == "new@example.org"

    again = Client().get(link)
    assert again.status_code == 410 and b"already been used" in again.content
    actions = set(AuditEntry.objects.filter(project=None).values_list("action", flat=True))
    assert {"invited", "invite_accepted"} <= actions


def test_link_expires_after_seven_days_and_resend_issues_a_new_one(
    console_client, smtp_server, send
):
    staff = console_client("staff")
    send(staff, reverse("console:user_invite"), {"email": "late@example.org"})
    first = invitation_link(smtp_server, "late@example.org")
    invitation = Invitation.objects.get(email="late@example.org")
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(7)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = Client().get(first)
    assert expired.status_code == 410 and b"expired" in expired.content
    html = staff.get(reverse("console:users")).content.decode()
    assert "Expired" in html.split(f'id="invitation-{invitation.pk}"')[1].split("</tr>")[0]

    send(staff, reverse("console:invitation_resend", args=[invitation.pk]))
    second = invitation_link(smtp_server, "late@example.org")
    assert second != first
    assert Client().get(first).status_code == 410  # the old link no longer works
    assert Client().get(second).status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == "pending" and invitation.send_count == 2


def test_revoked_invitation_link_is_refused(console_client, smtp_server, send):
    staff = console_client("staff")
    send(staff, reverse("console:user_invite"), {"email": "gone@example.org"})
    link = invitation_link(smtp_server, "gone@example.org")
    invitation = Invitation.objects.get(email="gone@example.org")
    send(staff, reverse("console:invitation_revoke", args=[invitation.pk]))
    response = Client().post(
        link, {"username": "gone", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 410 and b"withdrawn" in response.content
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="gone").exists()
    assert AuditEntry.objects.filter(action="invite_revoked", component_name="gone@example.org")


def test_inviting_an_email_that_has_an_account_is_refused(console_client, smtp_server, send):
    UserFactory(username="known", email="known@example.org")
    response = send(
        console_client("staff"), reverse("console:user_invite"), {"email": "KNOWN@example.org"}
    )
    assert response.status_code == 422
    assert "already has an account (known)" in response.content.decode()
    assert not Invitation.objects.exists() and smtp_server.messages == []


@pytest.mark.django_db(transaction=True)  # mail after commit, inside the request, as served
def test_mail_server_down_keeps_the_invitation_and_says_so(console_client, settings):
    from tests.accounts.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    settings.EMAIL_USE_TLS = False
    staff = console_client("staff")
    response = staff.post(reverse("console:user_invite"), {"email": "wait@example.org"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="wait@example.org")
    assert "ConnectionRefusedError" in invitation.send_error and invitation.sent_at is None
    page = staff.get(response["Location"]).content.decode()
    assert "the mail was not sent" in page and "Resend it once mail works" in page


# --- Project invitations to an email with no account ----------------------------------------


def test_project_invite_to_unknown_email_is_pending_then_joins_with_the_role(
    client_for, project, smtp_server, send
):
    admin = client_for("admin")
    response = send(
        admin,
        reverse("projects:member_invite", args=[project.pk]),
        {"username_or_email": "ext@example.org", "role": Role.OPERATOR},
    )
    assert response.status_code == 302
    settings_html = admin.get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert "Pending invitations" in settings_html
    row = settings_html.split('class="table pending-invitations"')[1].split("</table>")[0]
    assert "ext@example.org" in row and "Operator" in row
    mail = smtp_server.last_to("ext@example.org")
    assert project.name in mail.subject and "Operator" in mail.body
    assert AuditEntry.objects.filter(project=project, action="invited").exists()

    link = invitation_link(smtp_server, "ext@example.org")
    visitor = Client()
    done = visitor.post(
        link, {"username": "ext", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("design:designer", args=[project.pk])
    membership = Membership.objects.get(project=project, user__username="ext")
    assert membership.role == Role.OPERATOR
    assert visitor.get(done["Location"]).status_code == 200
    assert not ProjectInvitation.objects.exists()  # no longer pending
    after = admin.get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert "Pending invitations" not in after
    assert AuditEntry.objects.filter(
        project=project, action="member_add", component_name="ext"
    ).exists()


def test_two_projects_invite_the_same_email_one_account_joins_both(
    client_for, project, personas, smtp_server, send
):
    from tests.factories import MembershipFactory, ProjectFactory

    other = ProjectFactory(name="Second")
    MembershipFactory(project=other, user=personas["admin"], role=Role.ADMIN)
    admin = client_for("admin")
    for target, role in ((project, Role.VIEWER), (other, Role.EDITOR)):
        send(
            admin,
            reverse("projects:member_invite", args=[target.pk]),
            {"username_or_email": "both@example.org", "role": role},
        )
    assert Invitation.objects.filter(email="both@example.org").count() == 1
    link = invitation_link(smtp_server, "both@example.org")  # the newest link
    Client().post(link, {"username": "both", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    roles = dict(
        Membership.objects.filter(user__username="both").values_list("project__name", "role")
    )
    assert roles == {"Acme sync": Role.VIEWER, "Second": Role.EDITOR}


def test_account_created_by_staff_gets_the_pending_roles(
    client_for, console_client, project, smtp_server, send
):
    send(
        client_for("admin"),
        reverse("projects:member_invite", args=[project.pk]),
        {"username_or_email": "later@example.org", "role": Role.EDITOR},
    )
    response = send(
        console_client("staff"),
        reverse("console:user_create"),
        {"username": "later", "email": "later@example.org", "password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert Membership.objects.get(project=project, user__username="later").role == Role.EDITOR
    assert Invitation.objects.get(email="later@example.org").status == "accepted"


def test_admin_withdraws_a_pending_invitation_and_its_link_dies(
    client_for, project, smtp_server, send
):
    admin = client_for("admin")
    send(
        admin,
        reverse("projects:member_invite", args=[project.pk]),
        {"username_or_email": "maybe@example.org", "role": Role.VIEWER},
    )
    link = invitation_link(smtp_server, "maybe@example.org")
    grant = ProjectInvitation.objects.get()
    url = reverse("project_invitations:cancel", args=[project.pk, grant.pk])
    assert client_for("editor").post(url).status_code == 403
    assert admin.post(url).status_code == 302
    assert not ProjectInvitation.objects.exists()
    assert Client().get(link).status_code == 410  # nothing left to offer: revoked


def test_project_invite_by_unknown_username_still_explains(client_for, project):
    admin = client_for("admin")
    response = admin.post(
        reverse("projects:member_invite", args=[project.pk]),
        {"username_or_email": "nobody", "role": Role.VIEWER},
    )
    assert response.status_code == 302
    page = admin.get(response["Location"]).content.decode()
    assert "No user “nobody”" in page and "invite them by their email address" in page
    assert not Invitation.objects.exists()


def test_admin_resends_an_expired_pending_invitation_from_settings(
    client_for, project, smtp_server, send
):
    admin = client_for("admin")
    send(
        admin,
        reverse("projects:member_invite", args=[project.pk]),
        {"username_or_email": "slow@example.org", "role": Role.EDITOR},
    )
    first = invitation_link(smtp_server, "slow@example.org")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    html = admin.get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert "Link expired" in html and "Resend the invitation of slow@example.org" in html
    grant = ProjectInvitation.objects.get()
    url = reverse("project_invitations:resend", args=[project.pk, grant.pk])
    assert client_for("editor").post(url).status_code == 403
    response = send(admin, url)
    assert response.status_code == 302
    second = invitation_link(smtp_server, "slow@example.org")
    assert second != first and Client().get(second).status_code == 200
    assert Client().get(first).status_code == 410
    assert AuditEntry.objects.filter(project=project, action="invite_resent").exists()
