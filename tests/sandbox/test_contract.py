"""The contract module: loading, path matching, request validation, bundled schemas."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from connectors.constant_contact import contract

CONTACT_ID = "1618ae62-4752-11e9-9c8a-fa163e6b01c1"


def test_contract_is_the_vendored_v3_swagger_and_is_cached() -> None:
    loaded = contract.load_contract()
    assert loaded["swagger"] == "2.0"
    assert loaded["info"]["version"] == "3.0.178"
    assert loaded["basePath"] == "/v3"
    assert contract.load_contract() is loaded  # parsed once per process


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", f"/v3/contacts/{CONTACT_ID}", "/contacts/{contact_id}"),
        ("PUT", f"/contacts/{CONTACT_ID}", "/contacts/{contact_id}"),
        ("POST", "/v3/contacts/sign_up_form", "/contacts/sign_up_form"),
        ("GET", "/v3/contacts?limit=5", "/contacts"),
        ("GET", "/v3/contacts/", "/contacts"),
        ("POST", "/v3/activities/contacts_json_import", "/activities/contacts_json_import"),
        ("GET", "/v3/activities/abc", "/activities/{activity_id}"),
    ],
)
def test_find_operation_matches_concrete_paths(method: str, path: str, template: str) -> None:
    found = contract.find_operation(method, path)
    assert found is not None
    assert found[0] == template


def test_find_operation_misses() -> None:
    assert contract.find_operation("GET", "/v3/nothing/here") is None
    assert contract.find_operation("PATCH", "/v3/contacts") is None
    assert contract.find_operation("POST", "/contacts/sign_up_form")[1]["operationId"] == (
        "createOrUpdateContact"
    )


def test_a_valid_collection_query_has_no_violations() -> None:
    query = {
        "status": "active,unsubscribed",
        "limit": ["500"],
        "include": "custom_fields,list_memberships",
        "include_count": "true",
        "updated_after": "2024-01-01T00:00:00.000Z",
        "created_before": "2024-06-01T00:00:00+02:00",
        "tags": f"{CONTACT_ID},{CONTACT_ID}",
    }
    assert contract.validate_request("GET", "/v3/contacts", query) == []
    # A cursor carries the query it continues: it stands alone (issue 14, fidelity 9).
    assert contract.validate_request("GET", "/v3/contacts", {"cursor": "bGltaXQ9MQ=="}) == []


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"colour": "red"}, "unknown query parameter 'colour'"),
        ({"limit": "0"}, "less than the minimum of 1"),
        ({"limit": "501"}, "greater than the maximum of 500"),
        ({"limit": "many"}, "not an integer"),
        ({"status": "active,asleep"}, "'asleep' is not one of"),
        ({"include": "everything"}, "'everything' is not one of"),
        ({"include_count": "yes"}, "not a boolean"),
        ({"updated_after": "last tuesday"}, "not an RFC 3339 date-time"),
        ({"tags": "not-a-uuid"}, "not a UUID"),
        ({"lists": ",".join(["x"] * 26)}, "more than 25"),
        ({"limit": ["5", "6"]}, "given 2 times"),
    ],
)
def test_bad_query_parameters_are_reported(query: dict, fragment: str) -> None:
    problems = contract.validate_request("GET", "/contacts", query)
    assert any(fragment in p for p in problems), problems


def test_cursor_is_only_accepted_on_paged_operations() -> None:
    assert contract.validate_request("GET", "/v3/contact_tags", {"cursor": "abc"}) == []
    problems = contract.validate_request("GET", f"/v3/contacts/{CONTACT_ID}", {"cursor": "abc"})
    assert problems and "unknown query parameter 'cursor'" in problems[0]


def test_missing_required_query_parameter() -> None:
    problems = contract.validate_request("GET", "/v3/contacts/contact_id_xrefs", {})
    assert problems == ["missing required query parameter 'sequence_ids'"]


def test_unknown_path_and_method() -> None:
    assert "unknown path" in contract.validate_request("GET", "/v3/widgets")[0]
    assert (
        "method DELETE is not allowed on /contacts"
        in contract.validate_request("DELETE", "/v3/contacts")[0]
    )


def test_body_is_validated_against_the_operation_schema() -> None:
    good = {"email_address": {"address": "a@example.com"}, "create_source": "Account"}
    assert contract.validate_request("POST", "/v3/contacts", {}, good, "application/json") == []

    bad = {
        "email_address": {"permission_to_send": "implicit"},  # address is required
        "first_name": "x" * 51,
        "list_memberships": ["not-a-uuid"],
        "birthday_month": "eleven",
    }
    problems = contract.validate_request("POST", "/v3/contacts", {}, bad, "application/json")
    joined = "\n".join(problems)
    assert "'address' is a required property" in joined
    assert "body/first_name" in joined
    assert "body/list_memberships/0" in joined
    assert "body/birthday_month" in joined


def test_body_content_type_and_presence() -> None:
    body = {"name": "A list"}
    assert (
        "content type text/plain is not accepted"
        in contract.validate_request(
            "POST", "/v3/contact_lists", {}, body, "text/plain; charset=utf-8"
        )[0]
    )
    assert contract.validate_request("POST", "/v3/contact_lists", {}, None, None) == [
        "request body is required"
    ]
    assert (
        "takes no request body"
        in contract.validate_request("GET", "/v3/contact_lists", {}, {"x": 1}, "application/json")[
            0
        ]
    )


def test_put_contact_requires_update_source_by_schema() -> None:
    problems = contract.validate_request(
        "PUT", f"/v3/contacts/{CONTACT_ID}", {}, {"first_name": "A"}, "application/json"
    )
    assert problems == ["body: 'update_source' is a required property"]


@pytest.mark.parametrize(
    "name",
    [
        "ContactCreateOrUpdateInput",
        "ContactResource",
        "ContactPostRequest",
        "ContactPutRequest",
        "ContactsJsonImport",
        "Activity",
    ],
)
def test_definition_schema_is_self_contained_and_usable(name: str) -> None:
    schema = contract.definition_schema(name)
    jsonschema.Draft4Validator.check_schema(schema)
    # Every $ref resolves inside the returned document (no reference to the contract).
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    for ref in refs:
        assert ref.removeprefix("#/definitions/") in schema.get("definitions", {}), ref
    assert not any(key.startswith("x-") for key in schema)


def test_definition_schema_validates_instances() -> None:
    validator = jsonschema.Draft4Validator(contract.definition_schema("ContactResource"))
    good = {
        "contact_id": CONTACT_ID,
        "email_address": {"address": "a@example.com"},
        "custom_fields": [{"custom_field_id": CONTACT_ID, "value": "x"}],
    }
    assert list(validator.iter_errors(good)) == []
    bad = {"email_address": {}, "custom_fields": [{"value": "x"}]}
    assert len(list(validator.iter_errors(bad))) == 2  # missing address, missing custom_field_id
    with pytest.raises(KeyError):
        contract.definition_schema("NoSuchDefinition")
    first = contract.definition_schema("ContactResource")
    first["properties"].clear()
    assert contract.definition_schema("ContactResource")["properties"]  # callers get copies


def test_required_scopes_come_from_the_operation_security() -> None:
    _, summary = contract.find_operation("GET", "/v3/account/summary")
    _, contacts = contract.find_operation("GET", "/v3/contacts")
    assert contract.required_scopes(summary) == {"account_read"}
    assert contract.required_scopes(contacts) == {"contact_data"}


def test_parsed_contract_is_cached_as_json_keyed_by_file_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contract, "_CACHE_DIR", tmp_path)
    contract.load_contract.cache_clear()
    try:
        first = contract.load_contract()
        (cached,) = tmp_path.glob("constant-contact-v3-*.json")

        # A second process start must not need the YAML parser at all.
        def no_yaml(*args: object, **kwargs: object) -> None:
            raise AssertionError("parsed the YAML although a cache exists")

        monkeypatch.setattr(contract.yaml, "load", no_yaml)
        contract.load_contract.cache_clear()
        assert contract.load_contract() == first
        assert cached.stat().st_size > 100_000
    finally:
        contract.load_contract.cache_clear()
