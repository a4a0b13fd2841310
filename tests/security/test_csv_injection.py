"""Issue 17.9: the failed-records CSV download is meant for people: a record's cells that a
spreadsheet would run as formulas are neutralised, and it flattens records exactly as the
Files connector's CSV writer does (one flattener)."""

from __future__ import annotations

import csv
import io

from connectors.files.connector import FilesConnector
from designer.runs.models import OperationRun, RecordFailure, RunStatus, RunTrigger
from tests.factories import ActivityFactory, ConnectionFactory, OperationFactory

HOSTILE = {
    "email": '=HYPERLINK("http://evil.test","x")',
    "first_name": "+cmd|' /C calc'!A0",
    "last_name": "-2+3",
    "company": "@SUM(A1:A9)",
    "note": "\t=1",
    "score": "-5",
    "address": {"city": "=A1", "lines": ["a", "=b"]},
}


def _failed_run(project) -> OperationRun:
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    source = ActivityFactory(connection=files, activity_type="inline", config={"data": "a\n1\n"})
    target = ActivityFactory(connection=files, activity_type="write", config={})
    operation = OperationFactory(project=project, source=source, target=target)
    run = OperationRun.objects.create(
        operation=operation, project=project, status=RunStatus.WARNING, trigger=RunTrigger.MANUAL
    )
    RecordFailure.objects.create(
        run=run, index=0, key="k", error_key="=err", error_message="@bad", record=HOSTILE
    )
    return run


def test_the_failed_records_csv_neutralises_formulas(project, client_for):
    run = _failed_run(project)
    response = client_for("viewer").get(f"/projects/{project.pk}/runs/{run.pk}/failures.csv")
    assert response.status_code == 200
    (row,) = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["email"] == "'" + HOSTILE["email"]
    assert row["first_name"] == "'" + HOSTILE["first_name"]
    assert row["last_name"] == "'-2+3"
    assert row["company"] == "'@SUM(A1:A9)"
    assert row["note"] == "'\t=1"
    assert row["score"] == "-5"  # a plain number stays a number
    assert row["address.city"] == "'=A1"
    assert row["_error_key"] == "'=err" and row["_error_message"] == "'@bad"
    # The JSON download stays exact: it is data, not a spreadsheet.
    as_json = client_for("viewer").get(f"/projects/{project.pk}/runs/{run.pk}/failures.json")
    assert as_json.json() == [HOSTILE]


def test_the_download_and_the_files_writer_flatten_a_record_the_same_way(
    project, client_for, tmp_path
):
    from connectors.base import MemoryConnection, RunContext

    run = _failed_run(project)
    response = client_for("viewer").get(f"/projects/{project.pk}/runs/{run.pk}/failures.csv")
    download = list(csv.reader(io.StringIO(response.content.decode())))
    # The record as the database keeps it: PostgreSQL's jsonb does not keep key order, and the
    # download can only follow the stored order.
    stored = RecordFailure.objects.get(run=run).record
    context = RunContext(connection=MemoryConnection(extras={"folder": str(tmp_path)}))
    FilesConnector().activity_type("write").write(context, {"file_name": "x.csv"}, [stored])
    written = list(csv.reader((tmp_path / "x.csv").open(newline="")))
    # The same columns (the download adds the step and the error) and the same cells.
    assert download[0][:-4] == written[0]
    assert download[1][:-4] == written[1]
