"""The mapping engine: paths, constants, expressions, nested Constant Contact shapes."""

from __future__ import annotations

import pytest

from connectors.files.records import error_record
from designer.transformations.mapping import MappingError, compile_mapping

FLAT_TO_CC = [
    {"target": "email_address.address", "kind": "path", "value": "Email"},
    {"target": "email_address.permission_to_send", "kind": "constant", "value": "implicit"},
    {"target": "first_name", "kind": "expression", "value": "record['First Name'] | trim | title"},
    {"target": "phone_numbers.0.phone_number", "kind": "path", "value": "Phone"},
    {"target": "phone_numbers.0.kind", "kind": "constant", "value": "home"},
    {"target": "phone_numbers.1.phone_number", "kind": "path", "value": "Mobile"},
    {"target": "phone_numbers.1.kind", "kind": "constant", "value": "mobile"},
    {"target": "street_addresses.0.street", "kind": "path", "value": "Street"},
    {"target": "street_addresses.0.city", "kind": "path", "value": "City"},
    {"target": "street_addresses.0.kind", "kind": "constant", "value": "home"},
    {"target": "custom_fields[custom_field_id=cf-1].value", "kind": "path", "value": "Color"},
    {"target": "custom_fields[custom_field_id=cf-2].value", "kind": "path", "value": "Since"},
    {"target": "list_memberships", "kind": "expression", "value": "Lists | split(',')"},
    {"target": "taggings", "kind": "expression", "value": "Tags | split(';')"},
    {"target": "birthday_month", "kind": "expression", "value": "Month | to_int"},
]


def test_flat_columns_map_into_constant_contact_nested_shapes():
    row = {
        "Email": "ann@example.com",
        "First Name": "  ann ",
        "Phone": "555-0100",
        "Mobile": "555-0199",
        "Street": "1 Main St",
        "City": "Springfield",
        "Color": "red",
        "Since": "2020",
        "Lists": "list-a, list-b,",
        "Tags": "t1;t2",
        "Month": "11",
    }
    assert compile_mapping(FLAT_TO_CC).apply(row) == {
        "email_address": {"address": "ann@example.com", "permission_to_send": "implicit"},
        "first_name": "Ann",
        "phone_numbers": [
            {"phone_number": "555-0100", "kind": "home"},
            {"phone_number": "555-0199", "kind": "mobile"},
        ],
        "street_addresses": [{"street": "1 Main St", "city": "Springfield", "kind": "home"}],
        "custom_fields": [
            {"custom_field_id": "cf-1", "value": "red"},
            {"custom_field_id": "cf-2", "value": "2020"},
        ],
        "list_memberships": ["list-a", "list-b"],
        "taggings": ["t1", "t2"],
        "birthday_month": 11,
    }


def test_empty_columns_leave_targets_unset_and_constants_do_not_create_list_items():
    row = {"Email": "bob@example.com", "Phone": "", "Mobile": "555-0199", "Lists": "", "Month": ""}
    out = compile_mapping(FLAT_TO_CC).apply(row)
    # Mobile is item 1 but item 0 is empty: the hole is dropped, the kinds stay paired.
    assert out["phone_numbers"] == [{"phone_number": "555-0199", "kind": "mobile"}]
    assert "street_addresses" not in out and "list_memberships" not in out
    assert "custom_fields" not in out and "birthday_month" not in out


def test_a_failing_expression_fails_the_record_with_the_field_named():
    mapping = compile_mapping(FLAT_TO_CC)
    with pytest.raises(MappingError) as info:
        mapping.apply({"Email": "x@example.com", "Month": "November"})
    assert info.value.target == "birthday_month"
    assert "invalid literal for int()" in info.value.message
    # The same compiled mapping goes on with the next record.
    assert mapping.apply({"Email": "y@example.com", "Month": "3"})["birthday_month"] == 3


def test_the_sandbox_refuses_unsafe_access_and_huge_results():
    for source in (
        "record.__class__.__mro__",
        "''.__class__.__subclasses__()",
        "'x' * 10000000",
        "2 ** 100000",
        "record.pop('Email')",
        "record.update({'a': 1})",
    ):
        with pytest.raises(MappingError, match="not allowed"):
            compile_mapping([{"target": "t", "kind": "expression", "value": source}]).apply({})


def test_syntax_errors_fail_each_record_not_the_compile():
    mapping = compile_mapping([{"target": "t", "kind": "expression", "value": "first ~"}])
    with pytest.raises(MappingError, match="t: syntax error"):
        mapping.apply({"first": "a"})


def test_paths_reach_nested_values_and_flat_dotted_keys():
    rules = [
        {"target": "a", "kind": "path", "value": "email_address.address"},
        {"target": "b", "kind": "path", "value": "phone_numbers.0.phone_number"},
        {"target": "c", "kind": "path", "value": "missing.deep"},
    ]
    mapping = compile_mapping(rules)
    nested = {"email_address": {"address": "n@x.io"}, "phone_numbers": [{"phone_number": "1"}]}
    assert mapping.apply(nested) == {"a": "n@x.io", "b": "1"}
    assert mapping.apply({"email_address.address": "flat@x.io"}) == {"a": "flat@x.io"}


def test_no_rules_pass_records_through_but_unreadable_rows_still_fail():
    assert compile_mapping([]).apply({"a": 1}) == {"a": 1}
    with pytest.raises(MappingError, match="line 4: 2 values"):
        compile_mapping([]).apply(error_record("in.csv line 4: 2 values where 3"))
    with pytest.raises(MappingError, match="line 4"):
        compile_mapping(FLAT_TO_CC).apply(error_record("in.csv line 4: bad"))


def test_unknown_kind_and_bad_target_fail_records_with_a_message():
    with pytest.raises(MappingError, match="unknown rule kind 'magic'"):
        compile_mapping([{"target": "t", "kind": "magic", "value": 1}]).apply({})
    with pytest.raises(MappingError, match="invalid target path"):
        compile_mapping([{"target": "a..b", "kind": "constant", "value": 1}]).apply({})


def test_compiling_is_cached_for_equal_rules():
    assert compile_mapping(FLAT_TO_CC) is compile_mapping([dict(r) for r in FLAT_TO_CC])


def test_expression_helpers():
    rules = [
        {"target": "full", "kind": "expression", "value": "first ~ ' ' ~ last"},
        {"target": "phone", "kind": "expression", "value": "tel | digits"},
        {"target": "vip", "kind": "expression", "value": "flag | to_bool"},
        {"target": "name", "kind": "expression", "value": "coalesce(nick, first)"},
        {"target": "meta", "kind": "expression", "value": "blob | from_json"},
        {"target": "lower", "kind": "expression", "value": "email | lower"},
    ]
    out = compile_mapping(rules).apply(
        {
            "first": "Ann",
            "last": "Lee",
            "tel": "(555) 010-0",
            "flag": "Yes",
            "nick": "",
            "blob": '{"k": [1]}',
            "email": "A@X.IO",
        }
    )
    assert out == {
        "full": "Ann Lee",
        "phone": "5550100",
        "vip": True,
        "name": "Ann",
        "meta": {"k": [1]},
        "lower": "a@x.io",
    }


def test_with_several_expressions_the_failing_one_is_named():
    rules = [
        {"target": "a", "kind": "expression", "value": "first | upper"},
        {"target": "b", "kind": "expression", "value": "'x' * size"},
        {"target": "c", "kind": "expression", "value": "missing_field"},
    ]
    mapping = compile_mapping(rules)
    assert mapping.apply({"first": "ann", "size": 2}) == {"a": "ANN", "b": "xx"}
    with pytest.raises(MappingError) as info:
        mapping.apply({"first": "ann", "size": 10_000_000})
    assert info.value.target == "b" and "too large" in info.value.message


def test_objects_are_copied_so_later_rules_never_change_the_source_or_a_constant():
    rules = [
        {"target": "address", "kind": "path", "value": "home"},
        {"target": "address.kind", "kind": "constant", "value": "home"},
        {"target": "lists", "kind": "constant", "value": ["a"]},
        {"target": "lists.1", "kind": "path", "value": "extra"},
    ]
    mapping = compile_mapping(rules)
    source = {"home": {"city": "X"}, "extra": "b"}
    assert mapping.apply(source) == {"address": {"city": "X", "kind": "home"}, "lists": ["a", "b"]}
    assert source == {"home": {"city": "X"}, "extra": "b"}
    assert mapping.apply({"extra": "c"})["lists"] == ["a", "c"]
