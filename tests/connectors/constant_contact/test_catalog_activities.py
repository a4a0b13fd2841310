"""Lists, tags, custom fields and segments: the Query sources and the write targets (issue 14),
over HTTP against the sandbox; every request is re-validated against the contract."""

from __future__ import annotations

import uuid
from typing import Any

import jsonschema
import pytest

from connectors.base import RunContext
from connectors.constant_contact.activities import ACTIVITY_TYPES
from connectors.constant_contact.sandbox import Sandbox


@pytest.fixture(autouse=True)
def quick_activities(cc_sandbox: Sandbox) -> None:
    cc_sandbox.configure(activity_seconds=0.05, activity_polls=1)


def read_all(context: RunContext, key: str, config: dict[str, Any] | None = None) -> list[dict]:
    activity = ACTIVITY_TYPES[key]
    records = [r for batch in activity.read(context, config or {}) for r in batch]
    validator = jsonschema.Draft4Validator(activity.response_schema(config or {}))
    for record in records:  # what the wizard shows is what comes out
        assert list(validator.iter_errors(record)) == [], record
    return records


def write(context: RunContext, key: str, batch: list[dict], config: dict | None = None) -> list:
    return ACTIVITY_TYPES[key].write(context, config or {}, batch)


def test_query_lists_pages_through_every_list_with_counts(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    for n in range(3):
        cc_sandbox.service.catalog.add_list(f"Extra {n}")
    cc_sandbox.seed_contacts(4, lists=["Customers"])
    lists = read_all(context, "lists_query", {"include_membership_count": "all"})
    assert [x["name"] for x in lists][:4] == ["Newsletter", "Customers", "Prospects", "Events"]
    assert len(lists) == 7
    assert {x["name"]: x["membership_count"] for x in lists}["Customers"] == 4
    only = read_all(context, "lists_query", {"name": "Events"})
    assert [x["list_id"] for x in only] == [cc_sandbox.list_id("Events")]


def test_query_tags_custom_fields_and_segments(context: RunContext, cc_sandbox: Sandbox) -> None:
    assert {t["name"] for t in read_all(context, "tags_query", {"include_count": True})} == {
        "VIP",
        "Lead",
        "Imported",
    }
    fields = read_all(context, "custom_fields_query")
    assert {f["name"] for f in fields} == {"Favorite_Color", "Member_Since"}
    segments = read_all(context, "segments_query", {"sort_by": "name"})
    assert [s["name"] for s in segments] == sorted(s["name"] for s in segments)
    assert all(isinstance(s["segment_id"], int) for s in segments)


def test_create_update_and_delete_lists(context: RunContext, cc_sandbox: Sandbox) -> None:
    created = write(
        context,
        "lists_create",
        [{"name": "Spring", "description": "Spring sale"}, {"name": "Newsletter"}],
    )
    assert (created[0].ok, created[0].action) == (True, "created")
    assert (created[1].ok, created[1].error_key) == (False, "contacts.api.conflict")
    spring = created[0].external_id

    updated = write(context, "lists_update", [{"list_id": spring, "name": "Spring 2026"}])
    assert (updated[0].ok, updated[0].action) == (True, "updated")
    after = next(x for x in cc_sandbox.lists if x["list_id"] == spring)
    assert (after["name"], after["description"]) == ("Spring 2026", "Spring sale")  # kept

    cc_sandbox.seed_contacts(2, lists=["Spring 2026"])
    missing = str(uuid.uuid4())
    deleted = write(
        context, "lists_delete", [{"list_id": spring}, {"list_id": missing}, {"list_id": "no"}]
    )
    assert [(r.ok, r.action or r.error_key) for r in deleted] == [
        (True, "deleted"),
        (False, "deleted_error"),
        (False, "validation"),
    ]
    assert missing in deleted[1].error_message
    assert spring not in {x["list_id"] for x in read_all(context, "lists_query")}
    assert all(spring not in c["list_memberships"] for c in cc_sandbox.contacts)
    assert ACTIVITY_TYPES["lists_delete"].batch_size({}) == 100


def test_create_rename_and_delete_tags(context: RunContext, cc_sandbox: Sandbox) -> None:
    (made,) = write(context, "tags_create", [{"name": "Gold"}])
    assert made.ok and made.action == "created"
    renamed = write(
        context,
        "tags_rename",
        [{"tag_id": made.external_id, "name": "Platinum"}, {"tag_id": made.external_id}],
    )
    assert (renamed[0].ok, renamed[0].action) == (True, "renamed")
    assert (renamed[1].ok, renamed[1].error_key) == (False, "validation")
    assert "Platinum" in {t["name"] for t in cc_sandbox.tags}
    vip = cc_sandbox.tag_id("VIP")
    cc_sandbox.seed_contacts(5, lists=["Customers"])
    results = write(context, "tags_delete", [{"tag_id": made.external_id}, {"tag_id": vip}])
    assert [r.action for r in results] == ["deleted", "deleted"]
    assert {t["name"] for t in cc_sandbox.tags} == {"Lead", "Imported"}
    assert all(vip not in c["taggings"] for c in cc_sandbox.contacts)


def test_create_and_delete_custom_fields(context: RunContext, cc_sandbox: Sandbox) -> None:
    made = write(
        context,
        "custom_fields_create",
        [
            {"label": "Vehicle make and model year", "type": "string"},
            {"label": "Shoe size", "type": "shoe"},
        ],
    )
    assert made[0].ok and made[0].action == "created"
    assert (made[1].ok, made[1].error_key) == (False, "contacts.api.validation.error")
    field = next(f for f in cc_sandbox.custom_fields if f["custom_field_id"] == made[0].external_id)
    assert field["name"] == "Vehicle_make_and_model_year"
    deleted = write(context, "custom_fields_delete", [{"custom_field_id": made[0].external_id}])
    assert deleted[0].action == "deleted"
    assert made[0].external_id not in {f["custom_field_id"] for f in cc_sandbox.custom_fields}


def test_every_new_activity_has_schemas_for_the_wizard() -> None:
    for key, activity in ACTIVITY_TYPES.items():
        response = activity.response_schema({})
        assert response and response.get("title"), key
        jsonschema.Draft4Validator.check_schema(response)
        if activity.role.value == "target":
            request = activity.request_schema({})
            jsonschema.Draft4Validator.check_schema(request)
            assert request.get("properties"), key
