"""An invitation link's token is a credential: it exists in the delivered mail only. Not in
the database (a SHA-256 is kept), not in the log when the mail fails, not in the audit log,
not on the console pages that list the invitation."""

from __future__ import annotations

import json
import logging

import pytest
from django.apps import apps
from django.urls import reverse

from tests.accounts.smtp import free_port


def database_text() -> str:
    chunks = []
    for model in apps.get_models():
        if model._meta.app_label not in {"accounts", "audit", "projects", "auth", "sessions"}:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        chunks += [json.dumps(row, default=str) for row in model.objects.values_list(*names)]
    return "\n".join(chunks)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def post(client, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {})

    return post


def test_invitation_token_lives_in_the_mail_only(
    console_client, client_for, project, smtp_server, send, caplog, settings
):
    caplog.set_level(logging.DEBUG)
    staff = console_client("staff")
    send(staff, reverse("console:user_invite"), {"email": "a@example.org"})
    send(
        client_for("admin"),
        reverse("projects:member_invite", args=[project.pk]),
        {"username_or_email": "b@example.org", "role": "viewer"},
    )
    tokens = []
    for address in ("a@example.org", "b@example.org"):
        [link] = [u for u in smtp_server.last_to(address).links() if "/invitations/" in u]
        tokens.append(link.rstrip("/").rsplit("/", 1)[1])
    assert all(len(t) >= 40 for t in tokens)

    # A failing resend logs the failure, not the new link.
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    from designer.accounts.models import Invitation

    invitation = Invitation.objects.get(email="a@example.org")
    send(staff, reverse("console:invitation_resend", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.send_error

    pages = "".join(
        c.get(url).content.decode()
        for c, url in (
            (staff, reverse("console:users")),
            (staff, reverse("console:audit")),
            (client_for("admin"), reverse("projects:settings", args=[project.pk])),
        )
    )
    for token in tokens:
        assert token not in database_text()
        assert token not in "\n".join(r.getMessage() for r in caplog.records)
        assert token not in pages
    assert "a@example.org" in caplog.text  # the failure itself is logged
