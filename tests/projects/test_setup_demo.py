from __future__ import annotations

import re

from django.contrib.auth import authenticate
from django.core.management import call_command

from designer.projects.models import Membership, Project, Role


def _run(capsys) -> tuple[str, str]:
    call_command("setup_demo", "--url", "http://127.0.0.1:8000")
    out = capsys.readouterr().out
    password = re.search(r"with password\s+(\S+)", out).group(1)
    return out, password


def test_setup_demo_prints_a_fresh_working_password_each_time(db, capsys):
    out, first = _run(capsys)
    assert "http://127.0.0.1:8000/" in out
    assert authenticate(username="demo", password=first) is not None
    _, second = _run(capsys)
    assert second != first
    assert authenticate(username="demo", password=first) is None
    assert authenticate(username="demo", password=second) is not None


def test_setup_demo_makes_the_demo_user_admin_of_one_demo_project(db, capsys):
    _run(capsys)
    _run(capsys)
    project = Project.objects.get()
    membership = Membership.objects.get(project=project)
    assert (membership.user.username, membership.role) == ("demo", Role.ADMIN)
