"""Issue 17.9: the Files CSV writer neutralises spreadsheet formulas (on by default)."""

from __future__ import annotations

import csv

import pytest

from connectors.files.tabular import csv_for_people, flatten, spreadsheet_safe

HOSTILE = {
    "eq": '=HYPERLINK("http://evil.test","click")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(A1:A9)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}
HARMLESS = {"negative": "-5", "signed": "+1.5e3", "text": "plain", "quoted": "'=already"}


@pytest.fixture
def write(files):
    return files.activity_type("write")


def _rows(path):
    return list(csv.DictReader(path.open(newline="")))


def test_formula_cells_get_a_leading_quote_by_default(write, context, folder):
    results = write.write(context(run_id="1"), {"file_name": "f.csv"}, [{**HOSTILE, **HARMLESS}])
    assert [r.ok for r in results] == [True]
    (row,) = _rows(folder / "f.csv")
    assert {k: row[k] for k in HOSTILE} == {k: "'" + v for k, v in HOSTILE.items()}
    assert {k: row[k] for k in HARMLESS} == HARMLESS


def test_the_option_is_on_by_default_and_documented_in_the_form(files):
    field = {f.name: f for f in files.activity_type("write").config_fields}["neutralise_formulas"]
    assert field.default is True and "spreadsheet" in field.help


def test_turned_off_cells_are_written_as_they_are(write, context, folder):
    config = {"file_name": "raw.csv", "neutralise_formulas": False}
    write.write(context(run_id="1"), config, [HOSTILE])
    (row,) = _rows(folder / "raw.csv")
    assert row == HOSTILE


def test_a_formula_column_name_is_neutralised_and_widening_keeps_one_column(write, context, folder):
    ctx = context(run_id="2")
    config = {"file_name": "w.csv"}
    write.write(ctx, config, [{"=bad": "1"}])
    write.write(ctx, config, [{"=bad": "2", "b": "=x"}])
    lines = (folder / "w.csv").read_text().splitlines()
    assert lines == ["'=bad,b", "1,", "2,'=x"]


def test_one_flattener_and_safe_cells_for_people():
    record = {"a": {"b": "=1"}, "tags": ["x", "y"], "items": [{"k": 1}], "n": None, "ok": True}
    assert flatten(record) == {"a.b": "=1", "tags": "x,y", "items.0.k": "1", "n": "", "ok": "true"}
    assert flatten("just text") == {"value": "just text"}
    assert spreadsheet_safe("-12.5") == "-12.5" and spreadsheet_safe("-A1") == "'-A1"
    text = csv_for_people(["=h", "x"], [["@x", 3], ["ok", None]])
    assert text.splitlines() == ["'=h,x", "'@x,3", "ok,"]
