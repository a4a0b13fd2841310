"""Console → Users, staff actions: create, deactivate/reactivate (sessions end at once),
password-reset links through a real SMTP server, staff on/off, the last staff user kept."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from designer.audit.models import AuditEntry
from tests.accounts.smtp import path_of
from tests.factories import UserFactory

User = get_user_model()
GOOD = "plum tree lantern 42"


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def post(client, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {})

    return post


def audited(action: str, name: str) -> bool:
    return AuditEntry.objects.filter(action=action, component_name=name, project=None).exists()


def test_staff_creates_a_user_with_a_password(console_client):
    staff = console_client("staff")
    weak = staff.post(reverse("console:user_create"), {"username": "ann", "password": "ann"})
    assert weak.status_code == 422
    assert "too short" in weak.content.decode() and not User.objects.filter(username="ann")
    response = staff.post(
        reverse("console:user_create"),
        {"username": "ann", "email": "ann@example.org", "password": GOOD},
    )
    assert response.status_code == 302
    assert Client().login(username="ann", password=GOOD)
    assert audited("create", "ann")
    row = staff.get(reverse("console:audit"), {"action": "create"}).content.decode()
    assert "installation" in row and "<strong>ann</strong>" in row and "(deleted)" not in row
    # Project Admins' console audit log holds their projects only.
    admin_log = console_client("admin").get(reverse("console:audit")).content.decode()
    assert "<strong>ann</strong>" not in admin_log
    taken = staff.post(reverse("console:user_create"), {"username": "ANN", "password": GOOD})
    assert taken.status_code == 422 and "is taken" in taken.content.decode()


def test_user_created_without_password_gets_a_link_to_set_one(console_client, smtp_server, send):
    response = send(
        console_client("staff"),
        reverse("console:user_create"),
        {"username": "bob", "email": "bob@example.org", "is_staff": "on"},
    )
    assert response.status_code == 302
    bob = User.objects.get(username="bob")
    assert bob.is_staff and not bob.has_usable_password()
    mail = smtp_server.last_to("bob@example.org")
    assert "username: bob" in mail.body
    link = path_of(mail.links()[0])
    visitor = Client()
    form_page = visitor.get(link, follow=True)  # Django redirects to the set-password form
    assert form_page.status_code == 200 and b"Choose a new password" in form_page.content
    done = visitor.post(
        form_page.redirect_chain[-1][0], {"new_password1": GOOD, "new_password2": GOOD}
    )
    assert done.status_code == 302
    assert Client().login(username="bob", password=GOOD)


def test_deactivating_ends_the_sessions_at_once_and_reactivating_allows_login(
    console_client, personas
):
    editor = Client()
    editor.force_login(personas["editor"])
    assert editor.get(reverse("projects:list")).status_code == 200
    staff = console_client("staff")
    url = reverse("console:user_active", args=[personas["editor"].pk])
    assert staff.post(url, {"value": "0"}).status_code == 302
    response = editor.get(reverse("projects:list"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Client().login(username="editor", password="correct horse battery staple")
    assert audited("deactivated", "editor")

    staff.post(url, {"value": "1"})
    assert Client().login(username="editor", password="correct horse battery staple")
    assert audited("reactivated", "editor")


def test_the_last_active_staff_user_cannot_be_removed(console_client, staff):
    client = console_client("staff")
    other = UserFactory(username="other", is_staff=True)
    # Removing staff from "other" is fine while "staff" remains.
    client.post(reverse("console:user_staff", args=[other.pk]), {"value": "0"})
    other.refresh_from_db()
    assert not other.is_staff and audited("staff_removed", "other")
    refused = client.post(reverse("console:user_staff", args=[staff.pk]), {"value": "0"})
    assert refused.status_code == 422
    assert "last active staff user" in refused.content.decode()
    staff.refresh_from_db()
    assert staff.is_staff
    # Nor deactivated, by someone else who is not staff any more: no one can, here; and
    # staff can't deactivate themselves.
    own = client.post(reverse("console:user_active", args=[staff.pk]), {"value": "0"})
    assert own.status_code == 422 and "your own account" in own.content.decode()
    # With a second active staff user, the first can be deactivated by the second.
    client.post(reverse("console:user_staff", args=[other.pk]), {"value": "1"})
    assert audited("made_staff", "other")
    second = Client()
    second.force_login(other)
    assert second.post(reverse("console:user_active", args=[staff.pk]), {"value": "0"})[
        "Location"
    ] == reverse("console:users")
    last = second.post(reverse("console:user_staff", args=[other.pk]), {"value": "0"})
    assert last.status_code == 422 and "last active staff user" in last.content.decode()


def test_staff_sends_a_password_reset_link(console_client, personas, smtp_server):
    viewer = personas["viewer"]
    response = console_client("staff").post(
        reverse("console:user_password_reset", args=[viewer.pk])
    )
    assert response.status_code == 302
    mail = smtp_server.last_to(viewer.email)
    assert "Reset your Integration Designer password" in mail.subject
    visitor = Client()
    page = visitor.get(path_of(mail.links()[0]), follow=True)
    visitor.post(page.redirect_chain[-1][0], {"new_password1": GOOD, "new_password2": GOOD})
    assert Client().login(username="viewer", password=GOOD)
    assert audited("reset_link_sent", "viewer")


def test_login_page_forgot_password_uses_djangos_reset_views(client, personas, smtp_server):
    from django.core.cache import cache

    cache.clear()  # the hourly limit counts per client address, shared by the test client
    login_page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("accounts:password_reset")}"' in login_page
    assert "Forgot password?" in login_page
    response = client.post(reverse("accounts:password_reset"), {"email": "operator@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    mail = smtp_server.last_to("operator@example.com")
    page = client.get(path_of(mail.links()[0]), follow=True)
    weak = client.post(page.redirect_chain[-1][0], {"new_password1": "1", "new_password2": "1"})
    assert weak.status_code == 200 and b"too short" in weak.content  # validators on
    done = client.post(page.redirect_chain[-1][0], {"new_password1": GOOD, "new_password2": GOOD})
    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert Client().login(username="operator", password=GOOD)
    # An unknown address says the same thing and sends nothing.
    count = len(smtp_server.messages)
    client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert len(smtp_server.messages) == count


def test_project_admins_see_users_read_only(console_client, project):
    html = console_client("admin").get(reverse("console:users")).content.decode()
    assert "Create a user" not in html and "Deactivate" not in html and "Invitations" not in html
    staff_html = console_client("staff").get(reverse("console:users")).content.decode()
    assert "Create a user" in staff_html and "Invite by email" in staff_html


def test_outbox_shows_mail_kept_by_the_file_backend(console_client, settings, tmp_path, send):
    settings.EMAIL_BACKEND = "designer.accounts.mail.OutboxBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.SITE_URL = "http://127.0.0.1:8000"
    staff = console_client("staff")
    send(staff, reverse("console:user_invite"), {"email": "demo@example.org"})
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    html = staff.get(reverse("console:outbox")).content.decode()
    assert "demo@example.org" in html and "You are invited to Integration Designer" in html
    assert 'href="http://127.0.0.1:8000/accounts/invitations/' in html  # a link to follow
    assert console_client("admin").get(reverse("console:outbox")).status_code == 403


def test_deactivating_ends_api_access_too(console_client, personas):
    from designer.api.tokens import token_create

    _token, raw = token_create(user=personas["operator"], name="CI", scopes=["read"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/projects").status_code == 200
    url = reverse("console:user_active", args=[personas["operator"].pk])
    console_client("staff").post(url, {"value": "0"})
    assert api.get("/api/v1/projects").status_code == 401
    console_client("staff").post(url, {"value": "1"})
    assert api.get("/api/v1/projects").status_code == 200


def test_forgot_password_is_limited_per_hour_without_saying_so(client, personas, smtp_server):
    from django.core.cache import cache

    cache.clear()
    for _ in range(7):
        response = client.post(reverse("accounts:password_reset"), {"email": "viewer@example.com"})
        assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(smtp_server.to("viewer@example.com")) == 5
    cache.clear()
