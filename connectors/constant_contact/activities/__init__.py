"""The Constant Contact activity types, by key."""

from __future__ import annotations

from connectors.base import ActivityType
from connectors.constant_contact.activities.catalog_sources import (
    QueryCustomFields,
    QueryLists,
    QuerySegments,
    QueryTags,
)
from connectors.constant_contact.activities.catalog_targets import (
    CreateCustomFields,
    CreateLists,
    CreateTags,
    DeleteCustomFields,
    DeleteLists,
    DeleteTags,
    RenameTags,
    UpdateLists,
)
from connectors.constant_contact.activities.create import CreateContacts
from connectors.constant_contact.activities.delete import DeleteContacts
from connectors.constant_contact.activities.memberships import (
    AddTags,
    AddToLists,
    RemoveFromLists,
    RemoveTags,
)
from connectors.constant_contact.activities.query import QueryContacts
from connectors.constant_contact.activities.reports import (
    CampaignTracking,
    ContactTrackingActivity,
    ContactTrackingLookup,
    EmailCampaignSummaries,
)
from connectors.constant_contact.activities.update import UpdateContacts

# Lists, tags, custom fields, segments and memberships (issue 14): registering them here is
# all the palette and the wizard need.
CATALOG_ACTIVITIES: tuple[ActivityType, ...] = (
    AddToLists(),
    RemoveFromLists(),
    AddTags(),
    RemoveTags(),
    QueryLists(),
    CreateLists(),
    UpdateLists(),
    DeleteLists(),
    QueryTags(),
    CreateTags(),
    RenameTags(),
    DeleteTags(),
    QueryCustomFields(),
    CreateCustomFields(),
    DeleteCustomFields(),
    QuerySegments(),
    EmailCampaignSummaries(),
    ContactTrackingActivity(),
    ContactTrackingLookup(),
    CampaignTracking(),
)

ACTIVITY_TYPES: dict[str, ActivityType] = {
    activity.key: activity
    for activity in (
        QueryContacts(),
        CreateContacts(),
        UpdateContacts(),
        DeleteContacts(),
        *CATALOG_ACTIVITIES,
    )
}

__all__ = ["ACTIVITY_TYPES", "CreateContacts", "DeleteContacts", "QueryContacts", "UpdateContacts"]
