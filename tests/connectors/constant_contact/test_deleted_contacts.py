"""Create and Update meet a deleted contact (issue 14, sandbox fidelity 3 and 4).

Constant Contact keeps a deleted contact's address: a create with it is a 409 (so the
duplicate policy applies), and only a PUT with update_source "Account" restores it.
"""

from __future__ import annotations

import pytest

from connectors.base import RunContext
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.activities.update import UpdateContacts
from connectors.constant_contact.sandbox import Sandbox


def _deleted_contact(sandbox: Sandbox) -> dict:
    sandbox.seed_contacts(1)
    (contact,) = sandbox.contacts
    sandbox.service.contacts.delete(contact["contact_id"])
    return contact


@pytest.mark.parametrize(("policy", "action"), [("update", "updated"), ("skip", "skipped")])
def test_create_with_a_deleted_contacts_email_applies_the_duplicate_policy(
    context: RunContext, cc_sandbox: Sandbox, policy: str, action: str
) -> None:
    gone = _deleted_contact(cc_sandbox)
    address = gone["email_address"]["address"]
    record = {"email_address": {"address": address}, "job_title": "Returned"}
    (result,) = CreateContacts().write(context, {"on_duplicate": policy}, [record])
    assert (result.ok, result.action, result.external_id) == (True, action, gone["contact_id"])
    after = cc_sandbox.contact(gone["contact_id"])
    assert len(cc_sandbox.all_contacts(include_deleted=True)) == 1  # no second contact
    if policy == "update":  # revived with update_source Account, and updated
        assert "deleted_at" not in after and after["job_title"] == "Returned"
    else:
        assert after["deleted_at"] and after.get("job_title") != "Returned"


def test_create_with_a_deleted_contacts_email_fails_under_the_fail_policy(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    gone = _deleted_contact(cc_sandbox)
    record = {"email_address": {"address": gone["email_address"]["address"]}}
    (result,) = CreateContacts().write(context, {"on_duplicate": "fail"}, [record])
    assert (result.ok, result.error_key) == (False, "contacts.api.conflict")


def test_update_as_the_contact_does_not_revive_a_deleted_contact(
    context: RunContext, cc_sandbox: Sandbox
) -> None:
    gone = _deleted_contact(cc_sandbox)
    record = {"contact_id": gone["contact_id"], "job_title": "Back"}
    (refused,) = UpdateContacts().write(context, {"update_source": "Contact"}, [record])
    assert not refused.ok and "update_source Account" in refused.error_message
    assert cc_sandbox.contact(gone["contact_id"])["deleted_at"]
    (revived,) = UpdateContacts().write(context, {"update_source": "Account"}, [record])
    assert revived.ok, revived
    assert "deleted_at" not in cc_sandbox.contact(gone["contact_id"])
