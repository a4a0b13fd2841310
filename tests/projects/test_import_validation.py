"""Issue 17.11: a malformed project import is answered 422 naming the bad field's path (never a
500 with a traceback), and nothing is created. The document is checked against the JSON Schema
that docs/EXPORT_FORMAT.md documents."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse

from designer.design.models import Connection
from designer.projects.models import Project
from designer.transfer import services as transfer
from designer.transfer.validation import SCHEMA_PATH
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory


@pytest.fixture
def document(project, personas):
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    source = ActivityFactory(connection=files, activity_type="inline", name="In", config={})
    target = ActivityFactory(connection=files, activity_type="write", name="Out", config={})
    OperationFactory(project=project, name="Copy", source=source, target=target)
    return json.loads(json.dumps(transfer.project_export(project=project)))


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def _post(client, body: bytes):
    upload = io.BytesIO(body)
    upload.name = "project.json"
    return client.post(reverse("transfer:import"), {"file": upload})


CASES = [
    (lambda d: d.update(project=["Acme"]), "project: must be an object"),
    (lambda d: d.update(variables={"name": "x"}), "variables: must be an array"),
    (
        lambda d: d["connections"][0]["activities"].__setitem__(0, ["In", "inline"]),
        "connections[0].activities[0]: must be an object",
    ),
    (
        lambda d: d["connections"][0].update(config=[1, 2]),
        "connections[0].config: must be an object",
    ),
    (
        lambda d: d["operations"][0].update(position={"x": "left", "y": 3}),
        "operations[0].position.x: must be an integer",
    ),
    (
        lambda d: d["operations"][0].update(timeout_seconds="soon"),
        "operations[0].timeout_seconds: must be an integer",
    ),
    (
        lambda d: d["operations"][0].update(timeout_seconds=1e300),
        "operations[0].timeout_seconds: must be at most",
    ),
    (lambda d: d["operations"][0].update(source="In"), "operations[0].source: must be an object"),
    (lambda d: d["connections"][0].pop("connector_key"), "connections[0]: missing “connector_key”"),
    (
        lambda d: d.update(transformations=[{"name": "T", "mapping": {"a": 1}}]),
        "transformations[0].mapping: must be an array",
    ),
    (
        lambda d: d.update(transformations=[{"name": "T", "mapping": [{"kind": 5}]}]),
        "transformations[0].mapping[0].kind",
    ),
    (lambda d: d.update(schedules=[{"operation": "Copy", "cron": 5}]), "schedules[0].cron"),
    (
        lambda d: d["connections"][0].update(config={"deep": _nested(200)}),
        "connections[0].config.deep[0][0][0][0]",
    ),
    (
        lambda d: d["connections"][0].update(config={"deep": _nested(200)}),
        "nested deeper than 64 levels",
    ),
    (lambda d: d["operations"][0].update(on_agent_lost=7), "operations[0].on_agent_lost"),
]


@pytest.mark.parametrize(("mutate", "message"), CASES, ids=[m for _, m in CASES])
def test_a_malformed_document_is_a_422_naming_the_field(client_for, document, mutate, message):
    mutate(document)
    before = (Project.objects.count(), Connection.objects.count())
    response = _post(client_for("viewer"), json.dumps(document).encode())
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was imported." in html
    assert message.replace("“", "&ldquo;").replace("”", "&rdquo;") in html or message in html, html[
        html.find("Nothing") : html.find("Nothing") + 300
    ]
    assert (Project.objects.count(), Connection.objects.count()) == before


def test_a_file_nested_too_deeply_to_parse_is_a_422(client_for, project):
    response = _post(client_for("viewer"), b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 422
    assert "file: nested too deeply" in response.content.decode()
    assert Project.objects.count() == 1


def test_the_service_raises_the_same_error_for_the_command_and_api(document):
    document["operations"][0]["position"] = {"x": "left"}
    with pytest.raises(transfer.ProjectImportError, match=r"operations\[0\]\.position\.x"):
        transfer.project_import(document=document, actor=None)


def test_every_export_is_valid_against_the_documented_schema(document):
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    assert SCHEMA_PATH.name in (SCHEMA_PATH.parents[2] / "docs" / "EXPORT_FORMAT.md").read_text()
