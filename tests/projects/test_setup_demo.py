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


def test_setup_demo_builds_ready_operations_on_the_sandbox(db, capsys):
    from designer.design.models import Connection, Operation

    _run(capsys)
    _run(capsys)  # idempotent: nothing twice
    project = Project.objects.get()
    connection = Connection.objects.get(project=project, connector_key="constant_contact")
    assert connection.config["api_base_url"] == "http://127.0.0.1:8765/v3"
    assert connection.connector.validate_connection(connection.config) == {}
    operations = {o.name: o for o in Operation.objects.filter(project=project)}
    assert sorted(operations) == ["Create sample contacts", "Export contacts to CSV"]
    export = operations["Export contacts to CSV"]
    assert (export.source.activity_type, export.target.activity_type) == ("query", "write")
    assert export.transformation.mapping[0]["value"] == "email_address.address"
    for activity in (export.source, export.target, operations["Create sample contacts"].source):
        assert activity.type.validate_config(activity.config) == {}, activity.name


def test_the_demo_operations_sit_apart_on_the_board(db, capsys, client):
    """Positions are canvas pixels: the demo's two operations must not lie on top of each other
    (they were placed at y=0 and y=1, the old stacking order), nor under the board's edge."""
    from designer.design.models import Operation
    from designer.design.operations import ROW_HEIGHT

    _run(capsys)
    first, second = Operation.objects.order_by("position_y")
    assert first.position_x > 0 and first.position_y > 0
    assert second.position_y - first.position_y >= ROW_HEIGHT


def test_the_designer_page_shows_no_template_comment(db, capsys, client):
    _, password = _run(capsys)
    client.login(username="demo", password=password)
    project = Project.objects.get()
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "{#" not in page and "#}" not in page
