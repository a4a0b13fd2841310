"""Create, Update and Delete against the sandbox: one result per record, in order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from connectors import config as connector_config
from connectors.base import ConnectorError, NeedsReconnect, RecordResult, RunContext
from connectors.constant_contact.activities import bulk as bulk_module
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.activities.delete import DeleteContacts
from connectors.constant_contact.activities.update import UpdateContacts
from connectors.constant_contact.sandbox import Sandbox
from tests.connectors.constant_contact.conftest import LockedConnection, Recorder
from tests.fixtures.waiting import wait_for

CREATE, UPDATE, DELETE = CreateContacts(), UpdateContacts(), DeleteContacts()


def person(n: int, **extra: Any) -> dict[str, Any]:
    return {"email_address": {"address": f"new{n}@example.com"}, "first_name": f"New{n}", **extra}


def summary(results: list[RecordResult]) -> list[tuple[bool, str, str]]:
    return [(r.ok, r.action, r.error_key) for r in results]


# ------------------------------------------------------------------------------ create


def test_create_one_by_one_with_local_validation(context: RunContext, cc_sandbox: Sandbox) -> None:
    batch = [
        person(1),
        {"first_name": "No email"},
        {"email_address": "not-an-email"},
        person(2, last_name="x" * 51),  # over the contract's maxLength of 50
        {"email_address": "plain@example.com", "last_name": "String email"},
        person(3, first_name=None),  # unmapped fields arrive as None: not sent
    ]
    results = CREATE.write(context, {"create_source": "Contact"}, batch)
    assert summary(results) == [
        (True, "created", ""),
        (False, "", "validation"),
        (False, "", "validation"),
        (False, "", "validation"),
        (True, "created", ""),
        (True, "created", ""),
    ]
    assert "maxLength" in results[3].error_message or "too long" in results[3].error_message
    assert results[0].key == "new1@example.com"
    created = cc_sandbox.contact(results[0].external_id)
    assert created["create_source"] == "Contact" and created["first_name"] == "New1"
    assert cc_sandbox.contact_by_email("new3@example.com").get("first_name") is None
    assert len(cc_sandbox.api_requests()) == 3  # the bad ones never left


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("fail", (False, "", "contacts.api.conflict")),
        ("skip", (True, "skipped", "")),
        ("update", (True, "updated", "")),
    ],
)
def test_duplicate_email_policies(
    context: RunContext, cc_sandbox: Sandbox, policy: str, expected: tuple
) -> None:
    cc_sandbox.seed_contacts(3)
    existing = cc_sandbox.contact_by_email("contact2@example.com")
    record = {"email_address": {"address": "contact2@example.com"}, "job_title": "Pilot"}
    (result,) = CREATE.write(context, {"on_duplicate": policy}, [record])
    assert summary([result]) == [expected]
    after = cc_sandbox.contact(existing["contact_id"])
    if policy == "fail":
        assert existing["contact_id"] in result.error_message  # Constant Contact's words
    else:
        assert result.external_id == existing["contact_id"]
    if policy == "update":
        assert after["job_title"] == "Pilot"
        assert after["first_name"] == existing["first_name"]  # merged, not wiped
        assert after["list_memberships"] == existing["list_memberships"]
    else:
        assert after.get("job_title") == existing.get("job_title")


def test_create_or_update_through_the_sign_up_form(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(2)
    events = cc_sandbox.list_id("Events")
    batch = [
        {"email_address": "contact1@example.com", "job_title": "Updated"},
        {"email_address": {"address": "fresh@example.com"}, "first_name": "Fresh"},
        {
            "email_address": "fresh2@example.com",
            "list_memberships": [events],
        },
    ]
    results = CREATE.write(context, {"mode": "upsert", "list_ids": [events]}, batch)
    assert summary(results) == [(True, "updated", ""), (True, "created", ""), (True, "created", "")]
    assert cc_sandbox.contact_by_email("contact1@example.com")["job_title"] == "Updated"
    assert events in cc_sandbox.contact_by_email("fresh@example.com")["list_memberships"]
    calls = [r for r in cc_sandbox.api_requests() if r.path.endswith("sign_up_form")]
    assert len(calls) == 3 and calls[1].json["email_address"] == "fresh@example.com"


def test_bulk_import_turns_activity_errors_into_per_record_failures(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.configure(activity_seconds=0.2, activity_polls=0)
    customers = cc_sandbox.list_id("Customers")
    batch = [{"email": f"bulk{i}@example.com", "first_name": f"B{i}"} for i in range(50)]
    batch[3] = {"email": "", "first_name": "No email"}  # caught locally
    batch[7] = {"email": "bulk7@example", "first_name": "Bad domain"}  # caught locally
    batch[9]["cf:no such field"] = "x"  # only Constant Contact knows: activity error
    config = {"mode": "bulk", "list_ids": [customers]}
    assert CREATE.validate_config(config) == {}
    assert CREATE.batch_size(config) == 40_000 and CREATE.batch_size({}) == 500
    results = CREATE.write(context, config, batch)
    assert len(results) == 50
    assert [i for i, r in enumerate(results) if not r.ok] == [3, 7, 9]
    assert results[9].error_key == "import_error" and "no such field" in results[9].error_message
    assert results[3].error_key == results[7].error_key == "validation"
    assert all(r.action == "imported" for i, r in enumerate(results) if i not in (3, 7, 9))
    assert cc_sandbox.contact_by_email("bulk0@example.com")["list_memberships"] == [customers]
    assert cc_sandbox.contact_by_email("bulk9@example.com") is None
    posts = [r for r in cc_sandbox.api_requests() if r.method == "POST"]
    assert len(posts) == 1 and len(posts[0].json["import_data"]) == 48
    polls = [
        r
        for r in cc_sandbox.api_requests()
        if r.path.startswith("/v3/activities/") and r.method == "GET"
    ]
    assert polls  # waited for the activity to finish


def test_bulk_import_splits_requests_by_size(
    context: RunContext, cc_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    cc_sandbox.configure(activity_seconds=0.05, activity_polls=1)
    monkeypatch.setattr(bulk_module, "MAX_IMPORT_BYTES", 2_000)
    monkeypatch.setattr(
        bulk_module.chunk_rows,
        "__kwdefaults__",
        {"max_rows": bulk_module.MAX_IMPORT_ROWS, "max_bytes": 2_000},
    )
    batch = [{"email": f"size{i}@example.com", "job_title": "t" * 40} for i in range(60)]
    results = CREATE.write(
        context, {"mode": "bulk", "list_ids": [cc_sandbox.list_id("Events")]}, batch
    )
    assert all(r.ok for r in results) and len(results) == 60
    posts = [r for r in cc_sandbox.api_requests() if r.method == "POST"]
    assert len(posts) > 1
    assert sum(len(p.json["import_data"]) for p in posts) == 60
    assert len(cc_sandbox.contacts) == 60


def test_bulk_needs_list_ids() -> None:
    assert "list_ids" in CREATE.validate_config({"mode": "bulk"})
    assert "list_ids" in CREATE.validate_config({"mode": "bulk", "list_ids": ["x"] * 51})


def test_transient_errors_fail_records_and_an_outage_stops_the_batch(
    context: RunContext, cc_sandbox: Sandbox, recorder: Recorder
) -> None:
    cc_sandbox.inject(503, count=1000, path_prefix="/contacts")
    batch = [person(i) for i in range(10)]
    results = CREATE.write(context, {}, batch)
    assert len(results) == 10 and not any(r.ok for r in results)
    assert {r.error_key for r in results} == {"service_unavailable"}
    # Three records went through the retries, then one look whether a try had created the
    # contact after all (a 503 may come from a processed call); the rest were failed
    # without sending.
    assert len(cc_sandbox.api_requests()) == 3 * (4 + 1)
    assert any("in a row" in message for _, message in recorder.logs)


def test_lost_authorisation_raises_for_the_whole_batch(
    context: RunContext, connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.expire_access_tokens()
    cc_sandbox.revoke_refresh_token()
    with pytest.raises(NeedsReconnect):
        CREATE.write(context, {}, [person(1), person(2)])
    assert connection.reconnect_message


def test_invalid_config_raises() -> None:
    with pytest.raises(ConnectorError):
        CREATE.write(RunContext(connection=LockedConnection()), {"mode": "nope"}, [person(1)])


def test_cancel_fails_the_rest(connection: LockedConnection, cc_sandbox: Sandbox) -> None:
    context = RunContext(
        connection=connection, is_cancelled=lambda: len(cc_sandbox.api_requests()) >= 2
    )
    results = CREATE.write(context, {}, [person(i) for i in range(5)])
    sent = [r.ok for r in results]
    assert sent == [True, True, False, False, False]
    assert results[4].error_key == "cancelled"


# ------------------------------------------------------------------------------ update


def test_update_merges_by_default(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(5)
    before = cc_sandbox.contact_by_email("contact3@example.com")
    record = {"contact_id": before["contact_id"], "job_title": "Captain", "first_name": None}
    (result,) = UPDATE.write(context, {}, [record])
    assert (result.ok, result.action, result.external_id) == (True, "updated", before["contact_id"])
    after = cc_sandbox.contact(before["contact_id"])
    assert after["job_title"] == "Captain"
    assert after["first_name"] == before["first_name"] and after["last_name"] == before["last_name"]
    assert after["phone_numbers"] == before["phone_numbers"]  # sub-resources untouched
    assert after["update_source"] == "Account"


def test_update_replace_clears_what_is_not_mapped(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(5)
    before = cc_sandbox.contact_by_email("contact3@example.com")
    record = {"email_address": "contact3@example.com", "job_title": "Captain"}
    (result,) = UPDATE.write(
        context, {"match_by": "email", "mode": "replace", "update_source": "Contact"}, [record]
    )
    assert result.ok
    after = cc_sandbox.contact(before["contact_id"])
    assert after["job_title"] == "Captain"
    assert after.get("first_name") is None  # replaced: not mapped, so cleared
    assert after["email_address"]["address"] == "contact3@example.com"
    assert after["update_source"] == "Contact"


def test_update_missing_contacts_fail_alone(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(2)
    batch = [
        {"contact_id": str(uuid.uuid4()), "job_title": "x"},
        {"email_address": "contact1@example.com", "job_title": "y"},  # no contact_id
        {
            "contact_id": cc_sandbox.contact_by_email("contact2@example.com")["contact_id"],
            "job_title": "z",
        },
    ]
    results = UPDATE.write(context, {"match_by": "contact_id"}, batch)
    assert summary(results) == [
        (False, "", "not_found"),
        (False, "", "validation"),
        (True, "updated", ""),
    ]
    by_email = UPDATE.write(
        context, {"match_by": "email"}, [{"email_address": "nobody@example.com", "job_title": "x"}]
    )
    assert summary(by_email) == [(False, "", "not_found")]


# ------------------------------------------------------------------------------ delete


def test_delete_one_by_one_by_id_and_email(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(4)
    first = cc_sandbox.contact_by_email("contact1@example.com")["contact_id"]
    results = DELETE.write(context, {}, [{"contact_id": first}, {"contact_id": str(uuid.uuid4())}])
    assert summary(results) == [(True, "deleted", ""), (False, "", "not_found")]
    by_email = DELETE.write(
        context,
        {"match_by": "email"},
        [{"email_address": "contact2@example.com"}, {"email_address": "ghost@example.com"}],
    )
    assert summary(by_email) == [(True, "deleted", ""), (False, "", "not_found")]
    assert {c["email_address"]["address"] for c in cc_sandbox.contacts} == {
        "contact3@example.com",
        "contact4@example.com",
    }


def test_bulk_delete_in_chunks_of_500(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.configure(activity_seconds=0.05, activity_polls=1)
    cc_sandbox.seed_contacts(1100)
    ids = [{"contact_id": c["contact_id"]} for c in cc_sandbox.contacts]
    ghost = str(uuid.uuid4())
    batch = [*ids[:1000], {"contact_id": ghost}, {"contact_id": ""}]
    results = DELETE.write(context, {"mode": "bulk"}, batch)
    assert len(results) == 1002
    assert all(r.ok and r.action == "deleted" for r in results[:1000])
    assert (results[1000].ok, results[1000].error_key) == (False, "delete_error")
    assert ghost in results[1000].error_message
    assert results[1001].error_key == "validation"
    posts = [r for r in cc_sandbox.api_requests() if r.method == "POST"]
    assert [len(p.json["contact_ids"]) for p in posts] == [500, 500, 1]
    assert len(cc_sandbox.contacts) == 100


def test_update_merge_adds_lists_and_merges_custom_fields(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(4)
    before = cc_sandbox.contact_by_email("contact4@example.com")  # two custom fields
    events = cc_sandbox.list_id("Events")
    color_id = before["custom_fields"][0]["custom_field_id"]
    record = {
        "email_address": "contact4@example.com",
        "list_memberships": [events],
        "custom_fields": [{"custom_field_id": color_id, "value": "teal"}],
    }
    (result,) = UPDATE.write(context, {"match_by": "email"}, [record])
    assert result.ok
    after = cc_sandbox.contact(before["contact_id"])
    assert after["list_memberships"] == [*before["list_memberships"], events]
    values = {f["custom_field_id"]: f["value"] for f in after["custom_fields"]}
    assert values[color_id] == "teal" and len(values) == len(before["custom_fields"]) == 2
    lookup = cc_sandbox.api_requests()[0]
    assert lookup.query["include"] == ["list_memberships,custom_fields"]


# ------------------------------------------------------------------------------ flat shape


def test_flat_records_become_the_contracts_shape(context: RunContext, cc_sandbox: Sandbox) -> None:
    events = cc_sandbox.list_id("Events")
    color = cc_sandbox.custom_fields[0]["custom_field_id"]
    row = {
        "email": "flat@example.com",
        "first_name": "Flat",
        "home_phone": "555-0100",
        "mobile_phone": "555-0101",
        "work_city": "Boston",
        "work_street": "1 Main St",
        "home_city": "",  # blank columns are not an address
        "list_ids": f"{events}",
        f"custom_field:{color}": "green",
    }
    config = {"record_shape": "flat"}
    assert "home_phone" in CREATE.request_schema(config)["properties"]
    (result,) = CREATE.write(context, config, [row])
    assert result.ok and result.key == "flat@example.com"
    contact = cc_sandbox.contact(result.external_id)
    assert [(p["kind"], p["phone_number"]) for p in contact["phone_numbers"]] == [
        ("home", "555-0100"),
        ("mobile", "555-0101"),
    ]
    assert [(a["kind"], a["city"], a["street"]) for a in contact["street_addresses"]] == [
        ("work", "Boston", "1 Main St")
    ]
    assert contact["list_memberships"] == [events]
    assert contact["custom_fields"] == [{"custom_field_id": color, "value": "green"}]

    too_long = {"email": "long@example.com", "home_phone": "5" * 26}  # PhoneNumberPut: 25
    (failed,) = CREATE.write(context, config, [too_long])
    assert failed.error_key == "validation" and "phone_numbers" in failed.error_message

    (updated,) = UPDATE.write(
        context,
        {"match_by": "email", "record_shape": "flat"},
        [{"email": "flat@example.com", "job_title": "Flattened"}],
    )
    assert updated.ok
    after = cc_sandbox.contact(result.external_id)
    assert after["job_title"] == "Flattened" and after["first_name"] == "Flat"

    (upserted,) = CREATE.write(
        context,
        {"mode": "upsert", "record_shape": "flat", "list_ids": [events]},
        [{"email": "flat@example.com", "home_city": "Salem", "home_phone": "555-0199"}],
    )
    assert (upserted.ok, upserted.action) == (True, "updated")


def test_a_create_whose_answer_was_lost_is_not_a_duplicate(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    connector_config.configure(http_timeout=0.3)
    # The first POST is processed, but its answer comes after our timeout; the retry then
    # meets "Email already exists" - for the contact our own first try created.
    cc_sandbox.inject(0, count=1, path_prefix="/contacts", delay=0.6)
    (result,) = CREATE.write(context, {"on_duplicate": "fail"}, [person(1)])
    wait_for(  # the sandbox finishes the slow call our client gave up on
        lambda: len([r for r in cc_sandbox.api_requests() if r.method == "POST"]) == 2,
        timeout=10,
    )
    created = cc_sandbox.contact_by_email("new1@example.com")
    assert (result.ok, result.action) == (True, "created")
    assert result.external_id == created["contact_id"]
    assert sorted(r.status for r in cc_sandbox.api_requests() if r.method == "POST") == [201, 409]
