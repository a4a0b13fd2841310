"""Add/remove contacts to/from lists and tags to/from contacts (issue 14), over HTTP.

Every request is re-validated against the contract by the package's autouse check.
"""

from __future__ import annotations

import uuid

import pytest

from connectors.base import MemoryJournal, RecordResult, RunContext
from connectors.constant_contact.activities import ACTIVITY_TYPES
from connectors.constant_contact.activities.memberships import (
    AddTags,
    AddToLists,
    RemoveFromLists,
    RemoveTags,
    id_list,
)
from connectors.constant_contact.sandbox import Sandbox
from tests.connectors.constant_contact.conftest import LockedConnection
from tests.connectors.constant_contact.test_targets_bulk import WorkerKilled, killing_context


@pytest.fixture(autouse=True)
def quick_activities(cc_sandbox: Sandbox) -> None:
    cc_sandbox.configure(activity_seconds=0.05, activity_polls=1)


def posts(sandbox: Sandbox, path: str) -> list:
    return [r for r in sandbox.api_requests() if r.method == "POST" and r.path.endswith(path)]


def test_the_four_are_registered_for_the_palette() -> None:
    for key in (
        "lists_add_contacts",
        "lists_remove_contacts",
        "tags_add_contacts",
        "tags_remove_contacts",
    ):
        assert ACTIVITY_TYPES[key].role.value == "target"


def test_add_to_lists_then_remove_one_outcome_per_contact(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(6, lists=["Customers"])
    ids = [c["contact_id"] for c in cc_sandbox.contacts]
    events, prospects = cc_sandbox.list_id("Events"), cc_sandbox.list_id("Prospects")
    stranger = str(uuid.uuid4())
    batch = [{"contact_id": i} for i in ids] + [{"contact_id": stranger}, {"contact_id": "x"}]
    config = {"list_ids": [events, prospects]}

    results = AddToLists().write(context, config, batch)

    assert [(r.ok, r.action) for r in results[:6]] == [(True, "added")] * 6
    assert [r.external_id for r in results[:6]] == ids
    assert (results[6].ok, results[6].error_key) == (False, "added_error")
    assert stranger in results[6].error_message
    assert (results[7].ok, results[7].error_key) == (False, "validation")
    assert all({events, prospects} <= set(c["list_memberships"]) for c in cc_sandbox.contacts)
    (request,) = posts(cc_sandbox, "/add_list_memberships")
    assert request.json == {
        "source": {"contact_ids": [*ids, stranger]},
        "list_ids": config["list_ids"],
    }

    removed = RemoveFromLists().write(context, {"list_ids": events}, batch[:2])
    assert [r.action for r in removed] == ["removed", "removed"]
    members = {c["contact_id"]: c["list_memberships"] for c in cc_sandbox.contacts}
    assert events not in members[ids[0]] and events in members[ids[2]]


def test_a_repeated_contact_is_sent_once_and_shares_its_outcome(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(2, lists=["Customers"])
    first, second = (c["contact_id"] for c in cc_sandbox.contacts)
    batch = [{"contact_id": first}, {"contact_id": second}, {"contact_id": first.upper()}]
    results = AddTags().write(context, {"tag_ids": [cc_sandbox.tag_id("VIP")]}, batch)
    assert [(r.ok, r.action, r.key) for r in results] == [
        (True, "added", first),
        (True, "added", second),
        (True, "added", first.upper()),
    ]
    (request,) = posts(cc_sandbox, "/contacts_taggings_add")
    assert request.json["source"]["contact_ids"] == [first, second]


def test_add_then_remove_tags(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(3, lists=["Customers"])
    ids = [c["contact_id"] for c in cc_sandbox.contacts]
    vip, lead = cc_sandbox.tag_id("VIP"), cc_sandbox.tag_id("Lead")
    AddTags().write(context, {"tag_ids": f"{vip}, {lead}"}, [{"contact_id": i} for i in ids])
    assert all(set(c["taggings"]) >= {vip, lead} for c in cc_sandbox.contacts)
    results = RemoveTags().write(context, {"tag_ids": [vip]}, [{"contact_id": ids[0]}])
    assert results[0].action == "removed"
    assert vip not in cc_sandbox.contact(ids[0])["taggings"]
    assert lead in cc_sandbox.contact(ids[0])["taggings"]
    assert vip in cc_sandbox.contact(ids[1])["taggings"]


def test_500_contacts_per_request(context: RunContext, cc_sandbox: Sandbox) -> None:
    cc_sandbox.seed_contacts(1200, lists=["Customers"])
    batch = [{"contact_id": c["contact_id"]} for c in cc_sandbox.contacts]
    activity = AddToLists()
    assert activity.batch_size({}) == 500
    results = activity.write(context, {"list_ids": [cc_sandbox.list_id("Events")]}, batch)
    assert all(r.ok for r in results) and len(results) == 1200
    sizes = [len(p.json["source"]["contact_ids"]) for p in posts(cc_sandbox, "_memberships")]
    assert sizes == [500, 500, 200]


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({}, "at least one list"),
        ({"list_ids": ["not-an-id"]}, "not-an-id"),
        ({"list_ids": [str(uuid.uuid4()) for _ in range(51)]}, "At most 50"),
    ],
)
def test_the_configuration_is_checked(config: dict, words: str) -> None:
    assert words in AddToLists().validate_config(config)["list_ids"]


def test_an_unknown_list_fails_the_batch_with_constant_contacts_words(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(2, lists=["Customers"])
    batch = [{"contact_id": c["contact_id"]} for c in cc_sandbox.contacts]
    missing = str(uuid.uuid4())
    results = AddToLists().write(context, {"list_ids": [missing]}, batch)
    assert not any(r.ok for r in results)
    assert all(missing in r.error_message for r in results)


def test_a_resumed_attempt_polls_the_activity_it_started(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(10, lists=["Customers"])
    batch = [{"contact_id": c["contact_id"]} for c in cc_sandbox.contacts]
    config = {"list_ids": [cc_sandbox.list_id("Events")]}
    journal = MemoryJournal()
    dying, _ = killing_context(connection, journal, "GET", "/activities/")  # polling
    with pytest.raises(WorkerKilled):
        AddToLists().write(dying, config, batch)
    seen: list[tuple[int, RecordResult]] = []
    resumed = RunContext(
        connection=connection,
        journal=journal,
        resuming=True,
        on_result=lambda i, r: seen.append((i, r)),
    )
    results = AddToLists().write(resumed, config, batch)
    assert len(posts(cc_sandbox, "/add_list_memberships")) == 1  # not started again
    assert [r.action for r in results] == ["added"] * 10
    assert sorted(i for i, _ in seen) == list(range(10))


def test_a_refused_request_is_not_split_in_halves(context: RunContext, cc_sandbox: Sandbox) -> None:
    """An unknown list refuses the whole request (400): halving it could only repeat that."""
    cc_sandbox.seed_contacts(500, lists=["Customers"])
    batch = [{"contact_id": c["contact_id"]} for c in cc_sandbox.contacts]
    results = AddToLists().write(context, {"list_ids": [str(uuid.uuid4())]}, batch)
    assert not any(r.ok for r in results) and len(results) == 500
    assert len(posts(cc_sandbox, "/add_list_memberships")) == 1


def test_variables_pass_the_form_and_a_variable_may_hold_several_ids() -> None:
    assert AddToLists().validate_config({"list_ids": ["[newsletter_list]"]}) == {}
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert id_list([f"{first}, {second}", first]) == [first, second]
    assert "not-an-id" in AddToLists().validate_config({"list_ids": ["not-an-id"]})["list_ids"]
