"""The handful of V3 endpoints the activities use, as small typed calls."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from connectors.base import ConnectorError
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.flat import CONTACT_SCALARS
from connectors.http import RetryPolicy

# PUT overwrites with null every scalar (CONTACT_SCALARS) it omits; sub-resources - lists,
# phones, addresses, custom fields, tags, notes - are left alone when omitted, as the
# contract's PUT description says.
# Sub-resources that merge rather than replace: id sets grow, custom fields merge by id.
# (Phones, addresses and notes are lists of records without a natural key: a mapped list
# replaces the contact's.)
MERGED_ID_LISTS = ("list_memberships", "taggings")
MERGED_CUSTOM_FIELDS = "custom_fields"
# EmailAddressPut's writable properties.
EMAIL_WRITABLE = ("address", "permission_to_send", "opt_out_reason")
ACTIVITY_DONE_STATES = frozenset({"completed", "failed", "cancelled", "timed_out"})
_CONFLICT_ID = re.compile(r"contact\s+([0-9a-fA-F-]{32,36})")


def conflicting_contact_id(message: str) -> str:
    """The id in "Email already exists for contact <id>" (409 contacts.api.conflict)."""
    match = _CONFLICT_ID.search(message)
    return match.group(1) if match else ""


class ContactsApi:
    def __init__(self, client: ConstantContactClient) -> None:
        self.client = client

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.client.send_json("POST", "/contacts", body)

    def sign_up(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.client.send_json("POST", "/contacts/sign_up_form", body)

    def get(self, contact_id: str, include: tuple[str, ...] = ()) -> dict[str, Any]:
        params = {"include": ",".join(include)} if include else None
        return self.client.get_json(f"/contacts/{contact_id}", params=params)

    def find_by_email(
        self, email: str, include: tuple[str, ...] = (), *, retry: RetryPolicy | None = None
    ) -> dict[str, Any] | None:
        params = {"email": email, "limit": 1}
        if include:
            params["include"] = ",".join(include)
        page = self.client.get_json("/contacts", params=params, retry=retry)
        contacts = page.get("contacts") if isinstance(page, dict) else None
        return contacts[0] if contacts else None

    def put(self, contact_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.client.send_json("PUT", f"/contacts/{contact_id}", body)

    def delete(self, contact_id: str) -> None:
        self.client.request("DELETE", f"/contacts/{contact_id}")

    def import_json(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.client.send_json("POST", "/activities/contacts_json_import", body)

    def delete_bulk(self, contact_ids: list[str]) -> dict[str, Any]:
        return self.client.send_json(
            "POST", "/activities/contact_delete", {"contact_ids": contact_ids}
        )

    def wait_for_activity(
        self,
        activity: Mapping[str, Any],
        *,
        timeout: float,
        is_cancelled: Callable[[], bool],
        first_delay: float = 0.5,
        max_delay: float = 5.0,
    ) -> dict[str, Any]:
        """Poll GET /activities/{id} with a growing delay until the activity ends.

        Raises ConnectorError(permanent=False, key="activity_timeout" / "cancelled") when it
        does not end in time or the run is cancelled meanwhile.
        """
        activity_id = str(activity.get("activity_id") or "")
        if not activity_id:
            raise ConnectorError(
                "Constant Contact did not return an activity id.",
                permanent=False,
                key="invalid_response",
            )
        state = dict(activity)
        deadline = time.monotonic() + timeout
        delay = first_delay
        while state.get("state") not in ACTIVITY_DONE_STATES:
            if is_cancelled():
                raise ConnectorError(
                    f"The run was cancelled while activity {activity_id} was running; its "
                    "outcome is unknown.",
                    permanent=False,
                    key="cancelled",
                )
            if time.monotonic() + delay > deadline:
                raise ConnectorError(
                    f"Activity {activity_id} did not finish within {timeout:g} s "
                    f"(state {state.get('state')!r}).",
                    permanent=False,
                    key="activity_timeout",
                )
            time.sleep(delay)
            delay = min(max_delay, delay * 2)
            state = self.client.get_json(f"/activities/{activity_id}")
        return state


def merged_put_body(
    existing: Mapping[str, Any], changes: Mapping[str, Any], *, update_source: str
) -> dict[str, Any]:
    """The PUT body that changes only ``changes`` on ``existing`` (a ContactResource).

    PUT nulls every scalar it is not sent, so the contact's current scalars and email go
    along; sub-resources are only sent when mapped (omitted ones stay untouched), and
    mapped list/tag ids and custom fields are merged with the contact's (``existing`` must
    then include them: see ``merge_includes``).
    """
    body: dict[str, Any] = {k: existing[k] for k in CONTACT_SCALARS if existing.get(k) is not None}
    email = existing.get("email_address")
    if isinstance(email, Mapping):
        body["email_address"] = {k: email[k] for k in EMAIL_WRITABLE if email.get(k) is not None}
    for key, value in changes.items():
        current = existing.get(key)
        if key == "email_address" and isinstance(value, Mapping):
            body["email_address"] = {**body.get("email_address", {}), **value}
        elif key in MERGED_ID_LISTS and isinstance(value, list) and isinstance(current, list):
            body[key] = list(dict.fromkeys([*current, *value]))
        elif key == MERGED_CUSTOM_FIELDS and isinstance(value, list) and isinstance(current, list):
            by_id = {f.get("custom_field_id"): f for f in current if isinstance(f, Mapping)}
            by_id.update({f.get("custom_field_id"): f for f in value if isinstance(f, Mapping)})
            body[key] = [
                {k: v for k, v in f.items() if k in ("custom_field_id", "value", "choice_ids")}
                for f in by_id.values()
            ]
        else:
            body[key] = value
    body["update_source"] = update_source
    return body


def merge_includes(changes: Mapping[str, Any]) -> tuple[str, ...]:
    """The sub-resources to read before merging ``changes`` (only those that merge)."""
    return tuple(k for k in (*MERGED_ID_LISTS, MERGED_CUSTOM_FIELDS) if k in changes)


def replace_put_body(
    existing: Mapping[str, Any], changes: Mapping[str, Any], *, update_source: str
) -> dict[str, Any]:
    """The PUT body that replaces the contact with the mapped fields only.

    The email address is kept when not mapped: Constant Contact requires one in every PUT
    of a contact without an SMS channel, and "replace" must not mean "lose the address".
    """
    body = dict(changes)
    email = existing.get("email_address")
    if "email_address" not in body and isinstance(email, Mapping) and email.get("address"):
        body["email_address"] = {"address": email["address"]}
    body["update_source"] = update_source
    return body
