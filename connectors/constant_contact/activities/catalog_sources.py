"""Sources over the account's catalog: lists, tags, custom fields and segments.

Each reads one collection endpoint page by page (following `_links.next`, memory flat) and
yields its items as records shaped by the contract's item definition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from connectors.base import ActivityType, Field, FieldKind, Role, RunContext
from connectors.constant_contact.client import ConstantContactClient
from connectors.constant_contact.schemas import contract_schema

LIST_STATUSES = (("active", "Active"), ("all", "All"), ("deleted", "Deleted"))
MEMBERSHIP_COUNTS = (("", "No"), ("all", "All members"), ("active", "Active members only"))
SEGMENT_SORTS = (("date", "Most recently edited first"), ("name", "By name"))


class CatalogQuery(ActivityType):
    """One collection endpoint as a source."""

    role = Role.SOURCE
    path: ClassVar[str]
    items_key: ClassVar[str]
    item_definition: ClassVar[str]
    item_title: ClassVar[str]

    def params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    def response_schema(self, config: Mapping[str, Any]) -> dict:
        schema = contract_schema(self.item_definition)
        schema["title"] = self.item_title
        return schema

    def read(self, context: RunContext, config: Mapping[str, Any]) -> Iterator[list[dict]]:
        with ConstantContactClient.for_run(context) as client:
            for page in client.paginate(self.path, self.params(config), items_key=self.items_key):
                items = page.get(self.items_key) or []
                if items:
                    yield items
                if context.is_cancelled():
                    return


class QueryLists(CatalogQuery):
    key = "lists_query"
    name = "Query lists"
    description = "The account's contact lists (GET /contact_lists), with member counts."
    path, items_key, item_definition, item_title = (
        "/contact_lists",
        "lists",
        "ContactList",
        "Contact list",
    )
    config_fields = (
        Field("status", "Lists", FieldKind.CHOICE, default="active", choices=LIST_STATUSES),
        Field(
            "include_membership_count",
            "Member counts",
            FieldKind.CHOICE,
            default="",
            choices=MEMBERSHIP_COUNTS,
        ),
        Field("name", "Only the list named", max_length=255, help="Exact name; empty: all."),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        errors = {}
        if (config.get("status") or "active") not in dict(LIST_STATUSES):
            errors["status"] = "Active, all or deleted."
        if (config.get("include_membership_count") or "") not in dict(MEMBERSHIP_COUNTS):
            errors["include_membership_count"] = "No, all members or active members only."
        return errors

    def params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": 1000, "status": config.get("status") or "active"}
        if config.get("include_membership_count"):
            params["include_membership_count"] = config["include_membership_count"]
        if (config.get("name") or "").strip():
            params["name"] = config["name"].strip()
        return params


class QueryTags(CatalogQuery):
    key = "tags_query"
    name = "Query tags"
    description = "The account's tags (GET /contact_tags), with how many contacts have each."
    path, items_key, item_definition, item_title = ("/contact_tags", "tags", "Tag", "Tag")
    config_fields = (Field("include_count", "Count the contacts per tag", FieldKind.BOOLEAN),)

    def params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": 500}
        if config.get("include_count"):
            params["include_count"] = "true"
        return params


class QueryCustomFields(CatalogQuery):
    key = "custom_fields_query"
    name = "Query custom fields"
    description = "The account's custom fields (GET /contact_custom_fields)."
    path, items_key, item_definition, item_title = (
        "/contact_custom_fields",
        "custom_fields",
        "CustomField",
        "Custom field",
    )

    def params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return {"limit": 100}


class QuerySegments(CatalogQuery):
    key = "segments_query"
    name = "Query segments"
    description = "The account's segments (GET /segments): ids and names."
    path, items_key, item_definition, item_title = (
        "/segments",
        "segments",
        "SegmentMaster",
        "Segment",
    )
    config_fields = (
        Field("sort_by", "Order", FieldKind.CHOICE, default="date", choices=SEGMENT_SORTS),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, str]:
        if (config.get("sort_by") or "date") not in dict(SEGMENT_SORTS):
            return {"sort_by": "By date or by name."}
        return {}

    def params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return {"limit": "1000", "sort_by": config.get("sort_by") or "date"}
