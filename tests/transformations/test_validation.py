"""Validation against the schemas, auto-map by names, the schema tree."""

from __future__ import annotations

from connectors.constant_contact.schemas import create_contact_schema
from designer.transformations.automap import auto_map
from designer.transformations.schema import fields
from designer.transformations.validation import validate_mapping

SOURCE = {
    "type": "object",
    "properties": {
        name: {"type": "string"}
        for name in ("E-mail", "First Name", "surname", "Phone", "Zip", "City", "Company", "lists")
    },
}


def messages(problems):
    return [(p.target, p.level, p.message) for p in problems]


def test_required_unmapped_fields_are_named():
    problems = validate_mapping(
        [{"target": "first_name", "kind": "path", "value": "First Name"}],
        source_schema=SOURCE,
        target_schema=create_contact_schema(),
    )
    assert messages(problems) == [
        (
            "email_address.address",
            "error",
            "Required field “email_address.address” is not mapped.",
        )
    ]


def test_required_fields_of_list_items_only_count_when_the_item_is_mapped():
    rules = [
        {"target": "email_address.address", "kind": "path", "value": "E-mail"},
        {"target": "street_addresses.0.city", "kind": "path", "value": "City"},
    ]
    problems = validate_mapping(rules, source_schema=SOURCE, target_schema=create_contact_schema())
    assert [p.target for p in problems] == ["street_addresses.0.kind"]
    rules.append({"target": "street_addresses.0.kind", "kind": "constant", "value": "home"})
    assert (
        validate_mapping(rules, source_schema=SOURCE, target_schema=create_contact_schema()) == []
    )


def test_each_kind_of_mistake_names_its_field():
    rules = [
        {"target": "email_address.address", "kind": "path", "value": "Email"},
        {"target": "nickname", "kind": "constant", "value": "x"},
        {"target": "first_name", "kind": "expression", "value": "first ~"},
        {"target": "last_name", "kind": "expression", "value": "lastname | upper"},
        {"target": "job_title", "kind": "path", "value": ""},
        {"target": "job_title", "kind": "constant", "value": "CEO"},
        {"target": "custom_fields[custom_field_id=abc].value", "kind": "constant", "value": "v"},
    ]
    got = messages(
        validate_mapping(rules, source_schema=SOURCE, target_schema=create_contact_schema())
    )
    assert got == [
        (
            "email_address.address",
            "error",
            "“email_address.address”: the source has no field “Email”.",
        ),
        ("nickname", "error", "“nickname” is not a field of the target schema."),
        ("first_name", "error", "“first_name”: syntax error: unexpected 'end of template'."),
        (
            "last_name",
            "warning",
            "“last_name”: the expression uses “lastname”, which is not a source field "
            "(it will be empty).",
        ),
        ("job_title", "error", "“job_title” has no source field."),
        ("job_title", "error", "“job_title” is mapped more than once."),
    ]


def test_open_schemas_accept_any_field():
    rules = [{"target": "anything.at.all", "kind": "path", "value": "whatever"}]
    open_schema = {"type": "object", "properties": {}, "additionalProperties": True}
    assert validate_mapping(rules, source_schema=open_schema, target_schema=open_schema) == []
    assert validate_mapping(rules, source_schema=None, target_schema=None) == []


def test_auto_map_by_equal_similar_and_synonym_names():
    rules, added = auto_map([], fields(SOURCE), fields(create_contact_schema()))
    by_target = {r["target"]: (r["kind"], r["value"]) for r in rules}
    assert by_target["email_address.address"] == ("path", "E-mail")
    assert by_target["first_name"] == ("path", "First Name")
    assert by_target["last_name"] == ("path", "surname")
    assert by_target["phone_numbers.0.phone_number"] == ("path", "Phone")
    assert by_target["street_addresses.0.postal_code"] == ("path", "Zip")
    assert by_target["street_addresses.0.city"] == ("path", "City")
    assert by_target["company_name"] == ("path", "Company")
    assert by_target["list_memberships"] == ("expression", "lists | split(',')")
    assert by_target["street_addresses.0.kind"] == ("constant", "home")
    assert set(added) == set(by_target)


def test_auto_map_keeps_existing_rules_and_does_not_reuse_sources():
    existing = [{"target": "first_name", "kind": "constant", "value": "X"}]
    rules, added = auto_map(existing, fields(SOURCE), fields(create_contact_schema()))
    assert rules[0] == existing[0] and "first_name" not in added
    assert [r["value"] for r in rules].count("First Name") <= 1


def test_schema_tree_paths():
    paths = {f.path: f for f in fields(create_contact_schema())}
    assert paths["email_address"].leaf is False
    assert paths["email_address.address"].required
    assert paths["phone_numbers.0.phone_number"].leaf
    assert paths["list_memberships"].label == "string[]"


def test_auto_map_onto_an_open_target_carries_every_source_field():
    rules, added = auto_map(
        [{"target": "Email", "kind": "path", "value": "E-mail"}], fields(SOURCE), fields(None)
    )
    assert rules[0] == {"target": "Email", "kind": "path", "value": "E-mail"}
    assert {"target": "City", "kind": "path", "value": "City"} in rules
    assert added == list(SOURCE["properties"])  # "Email" is a target, not a source field
