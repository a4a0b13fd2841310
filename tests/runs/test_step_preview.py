"""Test/Preview of a step (issue 11): a source's first records with read-only calls; a
transformation, script or condition: records in -> out; nothing is written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from designer.design import integrations
from designer.design.models import Transformation
from tests.runs.chains import add, chain, ledger_counts

pytestmark = pytest.mark.django_db


def test_a_source_preview_shows_its_first_records(project, tmp_path, settings):
    settings.MAPPING_PREVIEW_RECORDS = 10
    _, steps = chain(project, tmp_path, count=25)
    preview = integrations.step_preview(steps["source"], user=None)
    assert not preview.error
    assert [r["id"] for r in preview.records_out] == list(range(10))
    assert preview.note == "The first 10 records the source gives."


def test_a_source_needing_a_write_call_is_not_previewed(project, tmp_path):
    _, steps = chain(project, tmp_path, count=5)
    source = steps["source"].activity
    source.config = {**source.config, "method": "POST"}
    source.save()
    preview = integrations.step_preview(steps["source"], user=None)
    assert "not read-only (POST)" in preview.error and preview.records_out == []


def test_script_and_condition_previews_show_in_and_out_and_write_nothing(project, tmp_path):
    operation, steps = chain(project, tmp_path, count=6)
    Transformation.objects.filter(pk=steps["transformation"].transformation_id).update(
        mapping=[{"target": "n", "kind": "path", "value": "id"}]
    )
    script = add(
        operation, "script", position=2, config={"script": "skip if n == 1\nm = 6 / (n - 2)"}
    )
    condition = add(
        operation, "condition", position=3, config={"expression": "m > 0", "mode": "filter"}
    )
    preview = integrations.step_preview(script, user=None)
    assert preview.records_in == [{"n": i} for i in range(6)]
    notes = [note for _, _, note in preview.pairs]
    assert notes[1] == "dropped by the script"
    assert notes[2].startswith("fails: line 2: ZeroDivisionError")
    assert preview.records_out[0] == {"n": 0, "m": -3.0}
    preview = integrations.step_preview(condition, user=None)
    assert preview.note.startswith("1 of the first records failed in an earlier step")
    assert [r["n"] for r in preview.records_in] == [0, 3, 4, 5]
    assert [r["n"] for r in preview.records_out] == [3, 4, 5]
    assert [note for _, _, note in preview.pairs] == ["filtered out", "", "", ""]
    assert ledger_counts(tmp_path / "a") == {}  # the target was never called


def test_a_step_after_a_target_says_why_it_has_no_preview(project, tmp_path):
    operation, _ = chain(project, tmp_path, count=3)
    response = add(operation, "transformation")
    preview = integrations.step_preview(response, user=None)
    assert "gives back, which only a run that writes produces" in preview.error


def test_the_preview_view_renders_records(project, tmp_path, client_for):
    _, steps = chain(project, tmp_path, count=3)
    url = reverse("design:step_preview", args=[project.pk, steps["transformation"].pk])
    response = client_for("editor").post(url)
    assert response.status_code == 200
    assert "3 records in, 3 out." in response.content.decode()


def test_a_constant_contact_export_is_never_started_by_a_preview(project, cc_allowed, cc_tokens):
    """The preview is read-only at the far side, not only in what it shows: a Query that would
    start an export (a POST) is refused before the call leaves, so the sandbox sees no write."""
    from tests.factories import ActivityFactory, OperationFactory
    from tests.fixtures.sandbox import cc_connection

    cc_sandbox = cc_allowed
    cc_sandbox.seed_contacts(3)
    connection = cc_connection(project, cc_sandbox, cc_tokens)
    query = ActivityFactory(
        connection=connection, activity_type="query", name="Export", config={"mode": "export"}
    )
    operation = OperationFactory(project=project, source=query)
    step = operation.steps.get(kind="source")

    preview = integrations.step_preview(step, user=None)

    assert "not read-only (POST)" in preview.error and preview.records_out == []
    assert not [r for r in cc_sandbox.requests if r.method != "GET"]
