"""Forms from connector fields, secret merging, names, and the schema tree."""

from __future__ import annotations

import datetime

from connectors.base import Field, FieldKind
from designer.design.forms import ActivityForm, form_field
from designer.design.schema_tree import schema_tree
from designer.design.services import merge_secrets, unique_name
from tests.design.fake_connector import Query


def test_every_field_kind_gets_a_working_form_field():
    cases = {
        FieldKind.TEXT: ("abc", "abc"),
        FieldKind.TEXTAREA: ("a\nb", "a\nb"),
        FieldKind.SECRET: ("pw", "pw"),
        FieldKind.URL: ("https://x.example/v3", "https://x.example/v3"),
        FieldKind.INTEGER: ("42", 42),
        FieldKind.BOOLEAN: ("on", True),
        FieldKind.LIST: ("a, b ,,c", ["a", "b", "c"]),
        FieldKind.DATE: ("2026-11-27", datetime.date(2026, 11, 27)),
    }
    for kind, (raw, cleaned) in cases.items():
        assert form_field(Field("f", "F", kind)).clean(raw) == cleaned, kind
    choice = form_field(Field("f", "F", FieldKind.CHOICE, choices=(("a", "A"),)))
    assert choice.clean("a") == "a"
    multi = form_field(Field("f", "F", FieldKind.MULTI_CHOICE, choices=(("a", "A"), ("b", "B"))))
    assert multi.clean(["a", "b"]) == ["a", "b"]


def test_a_required_secret_is_optional_once_stored():
    spec = Field("key", "Key", FieldKind.SECRET, required=True)
    assert form_field(spec).required is True
    assert form_field(spec, secret_is_set=True).required is False
    assert form_field(spec).widget.render("key", "hidden-value").count("hidden-value") == 0


def test_activity_config_is_json_ready():
    form = ActivityForm(
        {"name": "Q", "limit": "5", "fields": "a,b", "since": "2026-01-02"}, activity_type=Query()
    )
    assert form.is_valid(), form.errors
    assert form.config() == {"limit": 5, "fields": ["a", "b"], "since": "2026-01-02"}


def test_merge_secrets_blank_keeps_clear_removes_value_sets():
    stored = {"api_key": "old", "access_token": "tok"}
    assert merge_secrets(stored, entered={"api_key": ""}, cleared=[]) == stored
    assert merge_secrets(stored, entered={"api_key": "new"}, cleared=[]) == {
        "api_key": "new",
        "access_token": "tok",
    }
    assert merge_secrets(stored, entered={"api_key": ""}, cleared=["api_key"]) == {
        "access_token": "tok"
    }


def test_unique_name():
    assert unique_name("Query", []) == "Query"
    assert unique_name("Query", ["query", "Query 2"]) == "Query 3"


def test_schema_tree_resolves_refs_arrays_and_stops_on_recursion():
    schema = {
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": {"$ref": "#/definitions/Email"},
            "phones": {"type": "array", "items": {"$ref": "#/definitions/Phone"}},
            "parent": {"$ref": "#/definitions/Contact"},
        },
        "definitions": {
            "Email": {"type": "string", "format": "email", "description": "Primary address"},
            "Phone": {
                "type": "object",
                "required": ["number"],
                "properties": {"number": {"type": "string"}},
            },
            "Contact": {
                "type": "object",
                "properties": {"parent": {"$ref": "#/definitions/Contact"}},
            },
        },
    }
    root = schema_tree(schema)
    by_name = {child.name: child for child in root.children}
    assert by_name["email"].required and by_name["email"].type == "string"
    assert by_name["email"].description == "Primary address" and by_name["email"].extra == "email"
    assert by_name["phones"].type == "array"
    assert [(c.name, c.required) for c in by_name["phones"].children] == [("number", True)]
    # Contact -> parent -> (Contact again: not expanded further)
    depth, node = 0, by_name["parent"]
    while node.children:
        node, depth = node.children[0], depth + 1
    assert depth <= 2
    assert schema_tree(None) is None


def test_stored_dates_and_times_show_again_when_editing():
    from connectors.registry import get_connector

    query = get_connector("constant_contact").activity_type("query")
    form = ActivityForm(
        activity_type=query,
        values={"updated_after": "2026-11-27T10:30:00+00:00", "lists": ["a", "b"]},
        initial={"name": "Q"},
    )
    html = str(form["updated_after"])
    assert 'type="datetime-local"' in html and 'value="2026-11-27T10:30"' in html
    assert 'value="a, b"' in str(form["lists"])
    posted = ActivityForm({"name": "Q", "updated_after": "2026-11-27T10:30"}, activity_type=query)
    assert posted.is_valid(), posted.errors
    assert posted.config()["updated_after"].startswith("2026-11-27T10:30:00")
