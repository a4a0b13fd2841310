"""Each step's configuration panel: a Script's text, a Condition's expression and mode, an
Invoke operation's operation and wait, a target's pass-on; refusals keep what was typed and
say why; read only below Editor."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from designer.design.models import Step
from designer.design.step_services import step_add
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sync(project, personas, fake_connector):
    """ "Sync": All contacts -> (tools added by each test)."""
    connection = ConnectionFactory(project=project, connector_key="fake_crm", name="CRM")
    query = ActivityFactory(connection=connection, activity_type="query", name="All contacts")
    create = ActivityFactory(connection=connection, activity_type="create", name="Add contact")
    operation = OperationFactory(project=project, name="Sync")
    step_add(project=project, user=personas["editor"], operation=operation, activity=query)
    return {"operation": operation, "create": create, "user": personas["editor"]}


def tool(project, sync, name: str, **kwargs) -> Step:
    return step_add(
        project=project, user=sync["user"], operation=sync["operation"], tool=name, **kwargs
    )


def panel(client, project, step) -> str:
    response = client.get(reverse("design:step", args=[project.pk, step.pk]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def save(client, project, step, **data):
    response = client.post(
        reverse("design:step_save", args=[project.pk, step.pk]),
        {k: str(v) for k, v in data.items()},
        HTTP_HX_REQUEST="true",
    )
    return response, unescape(response.content.decode())


def version(sync) -> int:
    sync["operation"].refresh_from_db()
    return sync["operation"].version


def test_script_text_is_saved_and_shown_on_the_card(client_for, project, sync):
    script = tool(project, sync, "script")
    client = client_for("editor")
    html = panel(client, project, script)
    assert "Step 2: Script" in html and "Test/Preview" in html
    response, html = save(client, project, script, script="skip = not email", version=version(sync))
    assert response.status_code == 200
    assert "Saved step 2 “Script” of “Sync”." in html
    script.refresh_from_db()
    assert script.config == {"script": "skip = not email"}
    # The card (out of band, in the same answer) shows the script's first line.
    assert 'id="steps-' in html and "skip = not email" in html


def test_condition_expression_and_mode(client_for, project, sync):
    condition = tool(project, sync, "condition")
    client = client_for("editor")
    html = panel(client, project, condition)
    assert "Go down the False branch" in html and "Are dropped (filter)" in html
    response, html = save(client, project, condition, expression="", mode="route")
    assert response.status_code == 422
    assert "Couldn't save." in html and "This field is required." in html
    _, html = save(client, project, condition, expression='country == "CA"', mode="filter")
    condition.refresh_from_db()
    assert condition.config == {"expression": 'country == "CA"', "mode": "filter"}
    assert 'filter: country == "CA"' in html


def test_a_condition_with_branch_steps_cant_become_a_filter(client_for, project, sync):
    condition = tool(project, sync, "condition")
    step_add(
        project=project,
        user=sync["user"],
        operation=sync["operation"],
        parent=condition,
        branch="true",
        activity=sync["create"],
    )
    client = client_for("editor")
    response, html = save(client, project, condition, expression="vip", mode="filter")
    assert response.status_code == 422
    assert "filters records: it has no branches" in html
    assert 'value="vip"' in html  # what was typed is kept
    condition.refresh_from_db()
    assert condition.config == {"mode": "route"}
    # The card shows the branches under the condition, each with its own "+" gap.
    page = unescape(client.get(reverse("design:designer", args=[project.pk])).content.decode())
    assert 'aria-label="True branch of step 2"' in page
    assert "Add a step at the end of the true branch of Sync" in page


def test_invoke_offers_the_other_operations_and_saves_wait(client_for, project, sync):
    other = OperationFactory(project=project, name="Nightly export")
    invoke = tool(project, sync, "invoke")
    client = client_for("editor")
    html = panel(client, project, invoke)
    assert f'<option value="{other.pk}">Nightly export</option>' in html
    assert f'<option value="{sync["operation"].pk}"' not in html  # not itself
    _, html = save(client, project, invoke, operation=other.pk, wait="on")
    invoke.refresh_from_db()
    assert invoke.config == {"operation": other.pk, "wait": True}
    assert "Invoke “Nightly export”" in html and "waits" in html
    response, _ = save(client, project, invoke, operation=sync["operation"].pk)
    assert response.status_code == 422  # not a choice
    invoke.refresh_from_db()
    assert invoke.config["operation"] == other.pk


def test_a_target_passes_on_its_response_or_its_input(client_for, project, sync):
    target = step_add(
        project=project, user=sync["user"], operation=sync["operation"], activity=sync["create"]
    )
    assert target.config == {"pass_on": "response"}
    client = client_for("editor")
    html = panel(client, project, target)
    assert "Each record's result: id, action, error (the response)" in html
    assert "Open the activity “Add contact”" in html
    _, html = save(client, project, target, pass_on="input")
    target.refresh_from_db()
    assert target.config == {"pass_on": "input"}
    assert "passes its input on" in html


def test_a_stale_panel_is_refused_naming_who_changed_it(client_for, project, sync):
    script = tool(project, sync, "script")
    stale = version(sync)
    tool(project, sync, "script")  # someone else changed the operation since
    response, html = save(client_for("editor"), project, script, script="x = 1", version=stale)
    assert response.status_code == 422
    assert "editor" in html
    script.refresh_from_db()
    assert script.config == {}


def test_viewers_read_the_panel_but_cant_change_it(client_for, project, sync):
    script = tool(project, sync, "script")
    html = panel(client_for("viewer"), project, script)
    assert "Read only: your role (Viewer) can't change steps." in html
    assert "Test/Preview</button>" not in html
    response, _ = save(client_for("viewer"), project, script, script="x = 1")
    assert response.status_code == 403
