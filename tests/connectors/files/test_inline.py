"""Inline data: a small table kept in the activity's configuration."""

from __future__ import annotations

from connectors.files.connector import INLINE_MAX_ROWS
from connectors.files.records import RECORD_ERROR
from tests.connectors.files.conftest import read_all


def test_inline_csv_is_read_and_its_schema_comes_from_the_header(files, context):
    inline = files.activity_type("inline")
    config = {"data": "email,first_name\na@x.io,Ann\nb@x.io,Bob", "format": "csv"}
    assert inline.validate_config(config) == {}
    assert read_all(inline, context(), config) == [
        {"email": "a@x.io", "first_name": "Ann"},
        {"email": "b@x.io", "first_name": "Bob"},
    ]
    assert list(inline.response_schema(config)["properties"]) == ["email", "first_name"]


def test_inline_json_and_errors(files, context):
    inline = files.activity_type("inline")
    config = {"data": '[{"email": "a@x.io", "age": 3}]', "format": "json"}
    assert read_all(inline, context(), config) == [{"email": "a@x.io", "age": 3}]
    assert inline.response_schema(config)["properties"]["age"]["type"] == "integer"
    assert "Type or paste" in inline.validate_config({"data": "  "})["data"]
    assert "invalid JSON" in inline.validate_config({"data": "[{", "format": "json"})["data"]
    too_many = "n\n" + "\n".join(str(i) for i in range(INLINE_MAX_ROWS + 1))
    assert "limited to 1,000 rows" in inline.validate_config({"data": too_many})["data"]
    ragged = read_all(inline, context(), {"data": "a,b\n1\n"})
    assert "1 values where the header has 2" in ragged[0][RECORD_ERROR]


def test_fields_render_through_the_generic_form_kinds(files):
    from connectors.base import FieldKind

    for activity in files.activity_types.values():
        for field in activity.config_fields:
            assert isinstance(field.kind, FieldKind)
            if field.kind is FieldKind.CHOICE:
                assert field.choices and all(len(c) == 2 for c in field.choices)
