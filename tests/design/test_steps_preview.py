"""Test/Preview in a step's panel (through the view): a source's first 10 records; a script,
a condition or a transformation: each record in and what came out (or why nothing did)."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from designer.design.models import Step
from designer.design.operations import PlacementRefused
from designer.design.step_services import step_add, step_configure
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

pytestmark = pytest.mark.django_db

ROWS = "email,first_name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(15))


@pytest.fixture
def inline(project, personas, settings, tmp_path):
    """ "People": an inline table of 15 people as the first step of "Sync"."""
    settings.FILES_ROOT = tmp_path / "files"
    settings.MAPPING_PREVIEW_RECORDS = 10
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    people = ActivityFactory(
        connection=files, activity_type="inline", name="People", config={"data": ROWS}
    )
    operation = OperationFactory(project=project, name="Sync")
    user = personas["editor"]
    source = step_add(project=project, user=user, operation=operation, activity=people)
    return {"operation": operation, "source": source, "user": user, "project": project}


def preview(client, project, step: Step) -> str:
    response = client.post(
        reverse("design:step_preview", args=[project.pk, step.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_a_source_shows_its_first_10_records(client_for, project, inline):
    html = preview(client_for("editor"), project, inline["source"])
    assert "0 records in, 10 out." in html
    assert "p0@example.com" in html and "p9@example.com" in html
    assert "p10@example.com" not in html
    assert html.count('class="preview-row"') == 10


def test_a_script_shows_each_record_in_and_out(client_for, project, inline):
    script = step_add(
        project=project, user=inline["user"], operation=inline["operation"], tool="script"
    )
    step_configure(
        project=project,
        user=inline["user"],
        step=script,
        config={"script": 'skip if email == "p1@example.com"\nname = first_name | lower'},
    )
    client = client_for("editor")
    panel = client.get(reverse("design:step", args=[project.pk, script.pk])).content.decode()
    panel = unescape(panel)
    assert "Runs the step on the first 10 records of the operation's source" in panel
    html = preview(client, project, script)
    assert "10 records in, 9 out." in html
    assert "dropped by the script" in html
    assert '"name": "p0"' in html  # the field the script set, in the record out


def test_a_broken_condition_says_why(client_for, project, inline):
    condition = step_add(
        project=project, user=inline["user"], operation=inline["operation"], tool="condition"
    )
    # A broken expression is refused when saved, with the reason (CORE's check)...
    with pytest.raises(PlacementRefused, match="syntax error"):
        step_configure(
            project=project,
            user=inline["user"],
            step=condition,
            config={"expression": "email ==", "mode": "filter"},
        )
    # ...and one not written yet can't be previewed: the preview says why.
    html = preview(client_for("editor"), project, condition)
    assert 'role="alert"' in html and "the expression is empty" in unescape(html)
    assert "preview-row" not in html


def test_a_target_has_no_preview(client_for, project, inline, fake_connector):
    crm = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    create = ActivityFactory(connection=crm, activity_type="create", name="Add contact")
    target = step_add(
        project=project, user=inline["user"], operation=inline["operation"], activity=create
    )
    html = preview(client_for("editor"), project, target)
    assert "This step has no preview: run the operation to see what it does." in html
