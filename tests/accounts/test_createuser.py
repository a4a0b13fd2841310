from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from designer.accounts.services import invitation_create
from designer.projects.models import Membership, Role


def test_createuser_with_password_from_stdin_joins_pending_projects(project, monkeypatch):
    invitation_create(email="cli@example.org", actor=None, project=project, role=Role.EDITOR)
    monkeypatch.setattr("sys.stdin", io.StringIO("plum tree lantern 42\n"))
    out = io.StringIO()
    call_command("createuser", "cli", "--email", "cli@example.org", "--password-stdin", stdout=out)
    assert "User cli created; joined Acme sync (Editor)." in out.getvalue()
    user = get_user_model().objects.get(username="cli")
    assert user.check_password("plum tree lantern 42") and not user.is_staff
    assert Membership.objects.get(project=project, user=user).role == Role.EDITOR


def test_createuser_refuses_a_weak_password_and_keeps_nothing(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("abc\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("createuser", "weak", "--password-stdin")
    assert not get_user_model().objects.filter(username="weak").exists()


def test_createuser_without_password_mails_a_link(
    db, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "createuser", "ops", "--email", "ops@example.org", "--staff", stdout=io.StringIO()
        )
    assert get_user_model().objects.get(username="ops").is_staff
    assert "/accounts/password-reset/" in smtp_server.last_to("ops@example.org").body
