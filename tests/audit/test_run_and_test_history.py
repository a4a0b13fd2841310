"""Cancels (from any page) and connection Tests are written to the history by their services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import ConnectionFactory
from tests.runs.conftest import fake_connector, make_operation  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_cancel_on_the_run_page_is_in_the_history_once(project, client_for):
    run = run_start(operation=make_operation(project, count=5), trigger=RunTrigger.MANUAL)
    response = client_for("operator").post(reverse("runs:cancel", args=[project.pk, run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELED
    entry = AuditEntry.objects.get(project=project, action="cancel")
    assert entry.actor_name == "operator"
    assert str(run.pk) in entry.component_name
    # An ended run can't be cancelled again, and nothing more is written.
    client_for("operator").post(reverse("runs:cancel", args=[project.pk, run.pk]))
    assert AuditEntry.objects.filter(project=project, action="cancel").count() == 1


def test_a_connection_test_is_in_the_history_with_its_outcome(project, client_for):
    connection = ConnectionFactory(project=project, config={"client_id": "[missing_key]"})
    response = client_for("editor").post(
        reverse("design:connection_test", args=[project.pk, connection.pk])
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(project=project, action="test")
    assert entry.actor_name == "editor"
    assert entry.after["outcome"] == "invalid_config"
    assert "[missing_key]" in entry.after["message"]
