"""Project variables ([name]) filled in where connections and activities are used: at Test
and at run time, with a clear error naming a missing one."""

from __future__ import annotations

import pytest

from connectors.base import CheckOutcome
from designer.design.connection_context import DbConnection
from designer.design.services import connection_test
from designer.projects.models import Variable
from designer.runs import engine
from designer.runs.models import RunStatus, RunTrigger
from designer.runs.services import run_start
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

pytestmark = pytest.mark.django_db


def test_test_names_the_missing_variable_and_calls_nothing(project):
    connection = ConnectionFactory(
        project=project, config={"client_id": "[cc_api_key]", "auth_method": "token"}
    )
    result = connection_test(connection=connection)
    assert result.outcome is CheckOutcome.INVALID_CONFIG
    assert "[cc_api_key]" in result.message
    connection.refresh_from_db()
    assert "[cc_api_key]" in connection.status_message


def test_connection_config_is_resolved_for_the_connector(project):
    Variable.objects.create(project=project, name="cc_api_key", value="abc-123")
    connection = ConnectionFactory(project=project, config={"client_id": "key [cc_api_key]"})
    assert DbConnection(connection).config["client_id"] == "key abc-123"
    connection.refresh_from_db()
    assert connection.config["client_id"] == "key [cc_api_key]"  # stored as written


def _files_operation(project):
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    source = ActivityFactory(
        connection=files,
        activity_type="inline",
        name="Inline",
        config={"data": "email\nada@example.com\ngrace@example.com\n", "format": "csv"},
    )
    target = ActivityFactory(
        connection=files,
        activity_type="write",
        name="Write",
        config={"file_name": "[prefix]-out.csv", "format": "csv"},
    )
    operation = OperationFactory(project=project, source=source, target=target)
    return files, operation


def _run(operation):
    run = run_start(operation=operation, trigger=RunTrigger.MANUAL)
    return engine.execute(run_id=run.pk, agent_name="inproc@test")


def test_a_run_with_a_missing_variable_ends_as_error_naming_it(project, settings, tmp_path):
    settings.FILES_ROOT = tmp_path
    _files, operation = _files_operation(project)
    run = _run(operation)
    assert run.status == RunStatus.ERROR
    assert "[prefix]" in run.message
    assert run.target_records == 0


def test_a_run_fills_in_the_variable(project, settings, tmp_path):
    settings.FILES_ROOT = tmp_path
    Variable.objects.create(project=project, name="prefix", value="march")
    files, operation = _files_operation(project)
    run = _run(operation)
    assert run.status == RunStatus.SUCCESS, run.message
    written = (tmp_path / str(files.pk) / "march-out.csv").read_text()
    assert "grace@example.com" in written
    operation.target.refresh_from_db()
    assert operation.target.config["file_name"] == "[prefix]-out.csv"
