"""The contact's scalar properties: one list, the contract's, used by the flat record shape and
by the read-merge-PUT of updates."""

from __future__ import annotations

from connectors.constant_contact import api, flat
from connectors.constant_contact.schemas import contract_schema

# Where the contact came from, sent on writes: not a property a mapping or a merge carries.
NOT_CONTACT_DATA = {"update_source", "create_source"}


def test_the_scalar_list_is_the_contracts_and_there_is_one():
    properties = contract_schema("ContactPutRequest", request=True)["properties"]
    scalars = {
        name
        for name, schema in properties.items()
        if schema.get("type") not in ("object", "array") and name not in NOT_CONTACT_DATA
    }
    assert set(flat.CONTACT_SCALARS) == scalars
    assert api.CONTACT_SCALARS is flat.CONTACT_SCALARS
