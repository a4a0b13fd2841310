"""The Constant Contact activity types, by key."""

from __future__ import annotations

from connectors.base import ActivityType
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.activities.delete import DeleteContacts
from connectors.constant_contact.activities.query import QueryContacts
from connectors.constant_contact.activities.update import UpdateContacts

ACTIVITY_TYPES: dict[str, ActivityType] = {
    activity.key: activity
    for activity in (QueryContacts(), CreateContacts(), UpdateContacts(), DeleteContacts())
}

__all__ = ["ACTIVITY_TYPES", "CreateContacts", "DeleteContacts", "QueryContacts", "UpdateContacts"]
