"""Custom fields by name in the flat record shape (issue 14): names and labels are resolved
once per run; an unknown one fails its record, named in the error."""

from __future__ import annotations

from connectors.base import RunContext
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.activities.update import UpdateContacts
from connectors.constant_contact.sandbox import Sandbox

FLAT = {"record_shape": "flat"}


def field_reads(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.api_requests() if r.path.endswith("/contact_custom_fields"))


def test_create_resolves_names_and_labels_once_per_run(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    color = next(f for f in cc_sandbox.custom_fields if f["label"] == "Favorite Color")
    since = next(f for f in cc_sandbox.custom_fields if f["label"] == "Member Since")
    batch = [
        {"email": "a@example.com", "custom_field:Favorite_Color": "teal"},
        {"email": "b@example.com", "custom_field:member since": "2020-01-01"},
        {"email": "c@example.com", "custom_field:Shoe size": "44"},
        {"email": "d@example.com", f"custom_field:{color['custom_field_id']}": "red"},
    ]
    results = CreateContacts().write(context, FLAT, batch)
    assert [r.ok for r in results] == [True, True, False, True]
    assert results[2].error_key == "validation"
    assert "'Shoe size'" in results[2].error_message
    assert cc_sandbox.contact_by_email("a@example.com")["custom_fields"] == [
        {"custom_field_id": color["custom_field_id"], "value": "teal"}
    ]
    assert cc_sandbox.contact_by_email("b@example.com")["custom_fields"] == [
        {"custom_field_id": since["custom_field_id"], "value": "2020-01-01"}
    ]
    assert cc_sandbox.contact_by_email("c@example.com") is None
    assert field_reads(cc_sandbox) == 1
    CreateContacts().write(
        context, FLAT, [{"email": "e@example.com", "custom_field:Favorite Color": "x"}]
    )
    assert field_reads(cc_sandbox) == 1  # same run: not read again


def test_update_resolves_names_too(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(1)
    (contact,) = cc_sandbox.contacts
    record = {"contact_id": contact["contact_id"], "custom_field:FAVORITE_COLOR": "green"}
    (result,) = UpdateContacts().write(context, FLAT, [record])
    assert result.ok, result
    values = {f["value"] for f in cc_sandbox.contact(contact["contact_id"])["custom_fields"]}
    assert "green" in values


def test_the_mapping_editor_accepts_custom_field_columns_by_name() -> None:
    """A flat target's custom_field:<name> columns (its patternProperties) are fields of the
    target schema: the mapping editor saves them (it refused them as unknown before)."""
    from connectors.constant_contact.activities import ACTIVITY_TYPES
    from designer.transformations.validation import validate_mapping

    source = {"type": "object", "properties": {"Email": {}, "Colour": {}}}
    for key in ("create", "update"):
        target = ACTIVITY_TYPES[key].request_schema({"record_shape": "flat", "match_by": "email"})
        rules = [
            {"target": "email", "kind": "path", "value": "Email"},
            {"target": "custom_field:Favorite_Color", "kind": "path", "value": "Colour"},
            {"target": "custom_field:Shoe size", "kind": "constant", "value": "42"},
        ]
        assert validate_mapping(rules, source_schema=source, target_schema=target) == []
        wrong = [rules[0], {"target": "custom_fieldz", "kind": "path", "value": "Colour"}]
        (problem,) = [
            p
            for p in validate_mapping(wrong, source_schema=source, target_schema=target)
            if p.level == "error"
        ]
        assert "is not a field of the target schema" in problem.message
