"""Files Read: CSV / JSON / JSON Lines, streamed in batches; bad rows fail alone."""

from __future__ import annotations

import json

import pytest

from connectors.base import ConnectorError
from connectors.files.records import RECORD_ERROR
from tests.connectors.files.conftest import read_all


@pytest.fixture
def read(files):
    return files.activity_type("read")


def test_csv_with_header_reads_records_in_batches(read, context, folder):
    rows = "\n".join(f"u{i}@example.com,User {i}" for i in range(25))
    (folder / "people.csv").write_text("email,name\n" + rows + "\n")
    batches = list(read.read(context(), {"file_name": "people.csv", "batch_size": 10}))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert batches[0][0] == {"email": "u0@example.com", "name": "User 0"}
    assert batches[2][-1] == {"email": "u24@example.com", "name": "User 24"}


def test_utf8_bom_is_stripped_from_the_first_column(read, context, folder):
    (folder / "bom.csv").write_bytes("\ufeffemail,city\nz@example.com,Zürich\n".encode())
    assert read_all(read, context(), {"file_name": "bom.csv"}) == [
        {"email": "z@example.com", "city": "Zürich"}
    ]


def test_latin1_file_reads_with_the_latin1_option(read, context, folder):
    (folder / "l1.csv").write_bytes("email;city\nm@example.com;Málaga\n".encode("latin-1"))
    config = {"file_name": "l1.csv", "encoding": "latin-1", "delimiter": ";"}
    assert read_all(read, context(), config) == [{"email": "m@example.com", "city": "Málaga"}]


def test_latin1_bytes_read_as_utf8_fail_that_row_only(read, context, folder):
    data = b"email,city\na@example.com,Paris\nb@example.com,M\xe1laga\nc@example.com,Rome\n"
    (folder / "mixed.csv").write_bytes(data)
    records = read_all(read, context(), {"file_name": "mixed.csv"})
    assert len(records) == 3
    assert records[0]["city"] == "Paris" and records[2]["city"] == "Rome"
    assert "line 3" in records[1][RECORD_ERROR] and "Latin-1" in records[1][RECORD_ERROR]


def test_ragged_rows_become_error_records_and_the_rest_is_read(read, context, folder):
    (folder / "ragged.csv").write_text(
        "email,first,last\n"
        "a@example.com,Ann,Lee\n"
        "b@example.com,Bob\n"
        "c@example.com,Cy,Young,extra\n"
        "\n"
        "d@example.com,Di,Ross\n"
    )
    records = read_all(read, context(), {"file_name": "ragged.csv"})
    assert [r.get("email") for r in records] == ["a@example.com", None, None, "d@example.com"]
    assert records[1][RECORD_ERROR] == "ragged.csv line 3: 2 values where the header has 3 columns."
    assert read.record_key(records[1]) == "ragged.csv line 3"
    assert read.record_key(records[0]) == "a@example.com"
    assert "4 values" in records[2][RECORD_ERROR] and "line 4" in records[2][RECORD_ERROR]


def test_bad_quoting_fails_the_row_not_the_file(read, context, folder):
    (folder / "quotes.csv").write_text(
        'email,note\na@example.com,"fine, quoted"\nb@example.com,"broken"x\nc@example.com,ok\n'
    )
    records = read_all(read, context(), {"file_name": "quotes.csv"})
    assert records[0] == {"email": "a@example.com", "note": "fine, quoted"}
    assert "line 3" in records[1][RECORD_ERROR]
    assert records[2] == {"email": "c@example.com", "note": "ok"}


def test_quoted_newlines_and_custom_quote_char(read, context, folder):
    (folder / "q.csv").write_text("email|note\na@example.com|'two\nlines'\n")
    config = {"file_name": "q.csv", "delimiter": "|", "quote_char": "'"}
    assert read_all(read, context(), config) == [{"email": "a@example.com", "note": "two\nlines"}]


def test_columns_pick_and_type_and_bad_values_fail_the_row(read, context, folder):
    (folder / "t.csv").write_text(
        "email,age,vip,extra\na@x.io,41,yes,z\nb@x.io,old,no,z\nc@x.io,,,z\n"
    )
    config = {"file_name": "t.csv", "columns": ["email", "age:integer", "vip:boolean"]}
    records = read_all(read, context(), config)
    assert records[0] == {"email": "a@x.io", "age": 41, "vip": True}
    assert "column 'age': 'old' is not an integer" in records[1][RECORD_ERROR]
    assert records[2] == {"email": "c@x.io", "age": None, "vip": None}
    assert read.response_schema(config)["properties"]["age"] == {"type": ["integer", "null"]}


def test_a_configured_column_missing_from_the_header_is_a_run_error(read, context, folder):
    (folder / "t.csv").write_text("email\na@x.io\n")
    with pytest.raises(ConnectorError, match="phone are not in the header"):
        read_all(read, context(), {"file_name": "t.csv", "columns": "email, phone"})


def test_empty_file_and_header_only_file(read, context, folder):
    (folder / "empty.csv").write_text("")
    (folder / "header.csv").write_text("email,name\n")
    with pytest.raises(ConnectorError, match=r"empty\.csv is empty") as info:
        read_all(read, context(), {"file_name": "empty.csv"})
    assert info.value.permanent
    assert read_all(read, context(), {"file_name": "header.csv"}) == []


def test_missing_file_is_a_clear_run_error(read, context):
    with pytest.raises(ConnectorError, match=r"No file matches 'nope\.csv'"):
        read_all(read, context(), {"file_name": "nope.csv"})


def test_size_limit_is_checked_before_reading(read, context, folder):
    (folder / "big.csv").write_text("email\n" + "a@example.com\n" * 100)
    with pytest.raises(ConnectorError, match="over the limit of 500 bytes") as info:
        read_all(read, context(max_file_bytes=500), {"file_name": "big.csv"})
    assert info.value.key == "file_too_large"


def test_row_limit_stops_with_a_message_after_yielding_the_allowed_rows(read, context, folder):
    (folder / "rows.csv").write_text("n\n" + "".join(f"{i}\n" for i in range(30)))
    seen = []
    with pytest.raises(ConnectorError, match="more than 20 rows"):
        for batch in read.read(
            context(), {"file_name": "rows.csv", "max_rows": 20, "batch_size": 10}
        ):
            seen.extend(batch)
    assert len(seen) == 20


def test_pattern_reads_matching_files_in_name_order(read, context, folder):
    (folder / "b-2.csv").write_text("n\n2\n")
    (folder / "b-1.csv").write_text("n\n1\n")
    (folder / "other.csv").write_text("n\n9\n")
    assert read_all(read, context(), {"file_name": "b-*.csv"}) == [{"n": "1"}, {"n": "2"}]


def test_json_array_streams_across_chunk_boundaries(read, context, folder):
    records = [
        {"email": f"u{i}@example.com", "n": i, "tags": ["a", "b"], "pad": "x" * 50}
        for i in range(3000)
    ]
    (folder / "c.json").write_text(json.dumps(records, indent=1))
    got = read_all(read, context(), {"file_name": "c.json", "batch_size": 1000})
    assert got == records


def test_json_array_non_objects_fail_alone_and_broken_json_stops_with_position(
    read, context, folder
):
    (folder / "mix.json").write_text('[{"a": 1}, 5, {"a": 2}]')
    records = read_all(read, context(), {"file_name": "mix.json"})
    assert records[0] == {"a": 1} and records[2] == {"a": 2}
    assert "record 2: a JSON object was expected, not int" in records[1][RECORD_ERROR]
    (folder / "broken.json").write_text('[{"a": 1}, {"a": }]')
    with pytest.raises(ConnectorError, match=r"invalid JSON in record 2.*the 1 records before"):
        read_all(read, context(), {"file_name": "broken.json"})
    (folder / "obj.json").write_text('{"a": 1}')
    with pytest.raises(ConnectorError, match="must hold an array"):
        read_all(read, context(), {"file_name": "obj.json"})


def test_json_lines_bad_lines_fail_alone(read, context, folder):
    (folder / "l.jsonl").write_text('{"a": 1}\n\nnot json\n[1]\n{"a": 2}\n')
    records = read_all(read, context(), {"file_name": "l.jsonl"})
    assert records[0] == {"a": 1} and records[3] == {"a": 2}
    assert records[1][RECORD_ERROR].startswith("l.jsonl line 3: not valid JSON")
    assert "line 4: a JSON object was expected, not list" in records[2][RECORD_ERROR]


def test_sample_schema_comes_from_the_header_or_the_first_records(read, context, folder):
    (folder / "h.csv").write_text("Email,First Name\n")
    schema = read.sample_schema(context(), {"file_name": "h.csv"})
    assert list(schema["properties"]) == ["Email", "First Name"]
    (folder / "s.jsonl").write_text('{"email": "a@x.io", "age": 3, "address": {"city": "X"}}\n')
    schema = read.sample_schema(context(), {"file_name": "s.jsonl"})
    assert schema["properties"]["age"]["type"] == "integer"
    assert schema["properties"]["address"]["properties"]["city"]["type"] == "string"


def test_validate_config_names_the_field(read):
    errors = read.validate_config({"file_name": "../etc/passwd", "columns": "a:date"})
    assert "folders" in errors["file_name"]
    assert "type must be one of" in errors["columns"]


def test_utf16_unclosed_quotes_and_oversized_cells_are_explained(read, context, folder):
    (folder / "u16.csv").write_text("email,name\na@x.io,Ann\n", encoding="utf-16")
    with pytest.raises(ConnectorError, match=r"u16\.csv is UTF-16"):
        read_all(read, context(), {"file_name": "u16.csv"})
    (folder / "open.csv").write_text('email,note\na@x.io,ok\nb@x.io,"never closed\nc@x.io,y\n')
    records = read_all(read, context(), {"file_name": "open.csv"})
    assert records[0] == {"email": "a@x.io", "note": "ok"}
    assert records[1][RECORD_ERROR] == (
        "open.csv lines 3-4: unexpected end of data "
        "(a quoted value opened on line 3 is never closed)"
    )
    (folder / "huge.csv").write_text("e,n\na,ok\nb," + "x" * (2 << 20) + "\nc,fine\n")
    records = read_all(read, context(), {"file_name": "huge.csv"})
    assert [r.get("e") for r in records] == ["a", None, "c"]
    assert "huge.csv line 3: field larger than field limit" in records[1][RECORD_ERROR]
