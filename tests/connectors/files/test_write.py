"""Files Write: CSV / JSON / JSON Lines, one result per record, the file valid after each batch."""

from __future__ import annotations

import csv
import json

import pytest

from connectors.files.records import error_record
from tests.connectors.files.conftest import read_all


@pytest.fixture
def write(files):
    return files.activity_type("write")


def test_csv_template_name_nested_flattening_and_one_result_per_record(write, context, folder):
    ctx = context(run_id="42")
    config = {"file_name": "out-{date}-{run_id}.csv", "format": "csv"}
    batch = [
        {"email_address": {"address": "a@x.io"}, "list_memberships": ["l1", "l2"]},
        {
            "email_address": {"address": "b@x.io"},
            "phone_numbers": [{"phone_number": "1", "kind": "home"}],
        },
        error_record("in.csv line 9: 2 values where the header has 3 columns."),
    ]
    results = write.write(ctx, config, batch)
    assert [r.ok for r in results] == [True, True, False]
    assert results[0].key == "a@x.io" and results[0].action == "written"
    assert results[2].error_key == "read_error" and "line 9" in results[2].error_message
    path = folder / "out-2026-11-27-42.csv"
    rows = list(csv.DictReader(path.open(newline="")))
    assert rows[0]["email_address.address"] == "a@x.io"
    assert rows[0]["list_memberships"] == "l1,l2"
    assert rows[1]["phone_numbers.0.phone_number"] == "1" and rows[0]["phone_numbers.0.kind"] == ""


def test_later_batches_append_and_widen_the_header(write, context, folder):
    ctx = context(run_id="5")
    config = {"file_name": "w-{run_id}.csv"}
    write.write(ctx, config, [{"a": "1"}])
    write.write(ctx, config, [{"a": "2", "b": "x"}])
    rows = list(csv.DictReader((folder / "w-5.csv").open(newline="")))
    assert rows == [{"a": "1", "b": ""}, {"a": "2", "b": "x"}]
    # A new run with the same name replaces the file.
    write.write(context(run_id="5b"), {"file_name": "w-5.csv"}, [{"z": "9"}])
    assert (folder / "w-5.csv").read_text().splitlines() == ["z", "9"]


def test_configured_columns_fix_the_header(write, context, folder):
    config = {"file_name": "c.csv", "columns": "email, name"}
    write.write(context(), config, [{"email": "a@x.io", "name": "A", "other": 1}])
    assert (folder / "c.csv").read_text().splitlines() == ["email,name", "a@x.io,A"]
    assert list(write.request_schema(config)["properties"]) == ["email", "name"]


def test_json_array_stays_valid_after_every_batch(write, context, folder):
    ctx = context(run_id="9")
    config = {"file_name": "o.json", "format": "json"}
    write.write(ctx, config, [])
    assert json.loads((folder / "o.json").read_text()) == []
    write.write(ctx, config, [{"n": 1}, {"n": 2}])
    assert json.loads((folder / "o.json").read_text()) == [{"n": 1}, {"n": 2}]
    write.write(ctx, config, [{"n": 3}])
    assert json.loads((folder / "o.json").read_text()) == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_json_lines_round_trip_through_read(write, files, context, folder):
    ctx = context(run_id="3")
    records = [{"email": f"u{i}@x.io", "nested": {"n": i}} for i in range(5)]
    write.write(ctx, {"file_name": "r.jsonl", "format": "jsonl"}, records[:2])
    write.write(ctx, {"file_name": "r.jsonl", "format": "jsonl"}, records[2:])
    assert read_all(files.activity_type("read"), context(), {"file_name": "r.jsonl"}) == records


def test_latin1_unencodable_record_fails_alone(write, context, folder):
    config = {"file_name": "l.csv", "encoding": "latin-1"}
    results = write.write(context(), config, [{"c": "Málaga"}, {"c": "東京"}, {"c": "Rome"}])
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error_key == "encoding"
    assert (folder / "l.csv").read_bytes().decode("latin-1").splitlines() == ["c", "Málaga", "Rome"]


def test_file_size_limit_fails_the_records_that_do_not_fit(write, context, folder):
    ctx = context(max_file_bytes=60)
    results = write.write(
        ctx, {"file_name": "s.csv"}, [{"email": f"user{i}@example.com"} for i in range(5)]
    )
    assert [r.ok for r in results] == [True, True, False, False, False]
    assert "size limit of 60 bytes" in results[-1].error_message
    assert (folder / "s.csv").stat().st_size <= 60


def test_utf8_bom_option_writes_a_single_bom(write, context, folder):
    ctx = context(run_id="b")
    config = {"file_name": "bom.csv", "encoding": "utf-8-bom"}
    write.write(ctx, config, [{"a": "é"}])
    write.write(ctx, config, [{"a": "ü"}])
    data = (folder / "bom.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1


def test_a_resumed_run_appends_even_in_another_process(files, write, context, folder):
    from connectors.files.connector import FilesConnector

    config = {"file_name": "r-{run_id}.csv"}
    write.write(context(run_id="11"), config, [{"n": "1"}])
    # A different worker (a new connector instance, a new context) continues run 11.
    other = FilesConnector().activity_type("write")
    other.write(context(run_id="11"), config, [{"n": "2"}])
    assert (folder / "r-11.csv").read_text().splitlines() == ["n", "1", "2"]
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == ["r-11.csv"]


def test_if_the_file_exists_replace_append_or_fail(write, context, folder):
    from connectors.base import ConnectorError

    (folder / "log.csv").write_text("n\r\n0\r\n")
    write.write(context(run_id="a"), {"file_name": "log.csv", "if_exists": "append"}, [{"n": "1"}])
    ctx = context(run_id="b")
    write.write(ctx, {"file_name": "log.csv", "if_exists": "append"}, [{"n": "2", "m": "x"}])
    write.write(ctx, {"file_name": "log.csv", "if_exists": "append"}, [{"n": "3"}])
    assert (folder / "log.csv").read_text().splitlines() == ["n,m", "0,", "1,", "2,x", "3,"]
    with pytest.raises(ConnectorError, match="already exists") as info:
        write.write(context(run_id="c"), {"file_name": "log.csv", "if_exists": "fail"}, [{"n": 4}])
    assert info.value.permanent and info.value.key == "file_exists"
    write.write(context(run_id="d"), {"file_name": "log.csv"}, [{"z": "9"}])
    assert (folder / "log.csv").read_text().splitlines() == ["z", "9"]
    assert write.validate_config({"file_name": "a.csv", "if_exists": "merge"}) == {
        "if_exists": "Replace, append or fail."
    }
