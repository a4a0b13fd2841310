"""The V3 operations the sandbox implements, keyed by (METHOD, contract path template).

Each handler gets the sandbox state and a parsed, already contract-validated request,
and returns (status, JSON body). Anything the contract has but this table lacks is
answered 501 by the dispatcher, so a connector never silently gets a fake success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import catalog_activities, exports, reports
from .contact_model import SUBRESOURCES, shape
from .contact_query import query_contacts, split_csv
from .errors import ApiError

if TYPE_CHECKING:
    from .service import SandboxService


@dataclass(frozen=True)
class RawBody:
    """An answer that is not JSON (the CSV file of a contact export)."""

    data: bytes
    content_type: str


@dataclass
class ApiRequest:
    method: str
    path: str
    template: str
    path_params: dict[str, str]
    query: dict[str, str]  # the last value of each parameter
    body: Any
    body_size: int
    client_id: str


Handler = Callable[["SandboxService", ApiRequest], tuple[int, Any]]
ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method, template)] = handler
        return handler

    return register


ACCOUNT = {
    "contact_email": "owner@example.com",
    "contact_phone": "555-0100",
    "country_code": "US",
    "encoded_account_id": "sandbox0001",
    "first_name": "Sandy",
    "last_name": "Box",
    "organization_name": "Constant Contact Sandbox",
    "organization_phone": "555-0100",
    "state_code": "MA",
    "time_zone_id": "America/New_York",
    "website": "https://www.example.com",
}
PHYSICAL_ADDRESS = {
    "address_line1": "1601 Trapelo Rd",
    "city": "Waltham",
    "state_code": "MA",
    "postal_code": "02451",
    "country_code": "US",
}
COMPANY_LOGO = {"url": "https://files.example.com/logo.png", "internal_id": "ACCOUNT.IMAGE.1"}


@route("GET", "/account/summary")
def account_summary(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    body: dict[str, Any] = dict(ACCOUNT)
    extra = set(split_csv(request.query.get("extra_fields")))
    if "physical_address" in extra:
        body["physical_address"] = dict(PHYSICAL_ADDRESS)
    if "company_logo" in extra:
        body["company_logo"] = dict(COMPANY_LOGO)
    return 200, body


# ---------------------------------------------------------------------- contacts


@route("GET", "/contacts")
def list_contacts(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, query_contacts(service.store, request.query)


def _echoed(body: Any) -> set[str]:
    """The sub-resources a create or update sent: Constant Contact's answer echoes them."""
    return {k for k in SUBRESOURCES if isinstance(body, dict) and k in body}


@route("POST", "/contacts")
def create_contact(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    status, contact = service.contacts.create(request.body)
    return status, shape(contact, _echoed(request.body))


@route("GET", "/contacts/{contact_id}")
def get_contact(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    contact = service.contacts.get(request.path_params["contact_id"])
    return 200, shape(contact, set(split_csv(request.query.get("include"))))


@route("PUT", "/contacts/{contact_id}")
def put_contact(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    contact = service.contacts.replace(request.path_params["contact_id"], request.body)
    return 200, shape(contact, _echoed(request.body))


@route("DELETE", "/contacts/{contact_id}")
def delete_contact(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    service.contacts.delete(request.path_params["contact_id"])
    return 204, None


@route("POST", "/contacts/sign_up_form")
def sign_up_form(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return service.contacts.sign_up(request.body)


# ---------------------------------------------------------------------- lists, fields, tags


@route("GET", "/contact_lists")
def get_lists(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.catalog.get_lists(request.query)


@route("POST", "/contact_lists")
def create_list(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, service.catalog.create_list(request.body)


@route("GET", "/contact_lists/{list_id}")
def get_list(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.catalog.get_list(request.path_params["list_id"], request.query)


@route("GET", "/contact_custom_fields")
def get_custom_fields(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.catalog.get_custom_fields(request.query)


@route("POST", "/contact_custom_fields")
def create_custom_field(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, service.catalog.create_custom_field(request.body)


@route("GET", "/contact_tags")
def get_tags(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.catalog.get_tags(request.query)


@route("POST", "/contact_tags")
def create_tag(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, service.catalog.create_tag(request.body)


# ---------------------------------------------------------------------- bulk activities


@route("POST", "/activities/contacts_json_import")
def json_import(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, service.activities.create_import(request.body, request.body_size)


@route("POST", "/activities/contact_delete")
def bulk_delete(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, service.activities.create_delete(request.body)


@route("GET", "/activities/{activity_id}")
def get_activity(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.activities.poll(request.path_params["activity_id"])


@route("GET", "/activities")
def get_activities(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.activities.collection(request.query)


# ---------------------------------------------------------------------- catalog writes


@route("PUT", "/contact_lists/{list_id}")
def put_list(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.catalog.update_list(request.path_params["list_id"], request.body)


@route("DELETE", "/contact_lists/{list_id}")
def delete_list(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    list_id = request.path_params["list_id"]
    service.catalog.get_list(list_id, {})  # 404 when unknown or already deleted
    activity = catalog_activities.create_list_delete(service.activities, [list_id])
    activity.pop("status", None)  # ActivityDeleteListResponse has none
    return 202, activity


@route("POST", "/activities/list_delete")
def list_delete(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    ids = list(request.body["list_ids"])
    return 201, catalog_activities.create_list_delete(service.activities, ids)


@route("POST", "/activities/add_list_memberships")
def add_list_memberships(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, catalog_activities.create_membership(service.activities, request.body, "add")


@route("POST", "/activities/remove_list_memberships")
def remove_list_memberships(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, catalog_activities.create_membership(service.activities, request.body, "remove")


@route("POST", "/activities/contacts_taggings_add")
def taggings_add(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, catalog_activities.create_tagging(service.activities, request.body, "add")


@route("POST", "/activities/contacts_taggings_remove")
def taggings_remove(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, catalog_activities.create_tagging(service.activities, request.body, "remove")


@route("PUT", "/contact_tags/{tag_id}")
def put_tag(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.catalog.rename_tag(request.path_params["tag_id"], request.body)


@route("DELETE", "/contact_tags/{tag_id}")
def delete_tag(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    tag_id = request.path_params["tag_id"]
    if tag_id not in service.store.tags:
        raise ApiError.of(404, f"Tag {tag_id} not found.", "contacts.api.not.found")
    return 202, catalog_activities.create_tags_delete(service.activities, [tag_id])


@route("POST", "/activities/contacts_tags_delete")
def tags_delete(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    ids = list(request.body["tag_ids"])
    return 201, catalog_activities.create_tags_delete(service.activities, ids)


@route("PUT", "/contact_custom_fields/{custom_field_id}")
def put_custom_field(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    field_id = request.path_params["custom_field_id"]
    return 200, service.catalog.update_custom_field(field_id, request.body)


@route("DELETE", "/contact_custom_fields/{custom_field_id}")
def delete_custom_field(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    field_id = request.path_params["custom_field_id"]
    if not catalog_activities.remove_custom_field(service.store, field_id):
        raise ApiError.of(404, f"Custom field {field_id} not found.", "contacts.api.not.found")
    return 204, None


@route("POST", "/activities/custom_fields_delete")
def custom_fields_delete(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    ids = list(request.body["custom_field_ids"])
    return 201, catalog_activities.create_custom_fields_delete(service.activities, ids)


@route("GET", "/segments")
def get_segments(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, service.catalog.get_segments(request.query)


# ---------------------------------------------------------------------- contact exports


@route("POST", "/activities/contact_exports")
def contact_exports(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 201, exports.create_export(service.activities, request.body)


@route("GET", "/contact_exports/{file_export_id}")
def contact_export_file(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    data = exports.export_file(service.activities, request.path_params["file_export_id"])
    return 200, RawBody(data, "text/csv")


# ---------------------------------------------------------------------- reports


@route("GET", "/reports/summary_reports/email_campaign_summaries")
def campaign_summaries(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    return 200, reports.email_campaign_summaries(service.store, request.query)


@route("GET", "/reports/contact_reports/{contact_id}/activity_details")
def contact_activity(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    contact_id = request.path_params["contact_id"]
    return 200, reports.contact_activity(service.store, contact_id, request.query)


def _tracking(which: str) -> Handler:
    def handler(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
        activity_id = request.path_params["campaign_activity_id"]
        return 200, reports.campaign_tracking(service.store, activity_id, which, request.query)

    return handler


for _which in reports.TRACKING_KINDS:
    route("GET", f"/reports/email_reports/{{campaign_activity_id}}/tracking/{_which}")(
        _tracking(_which)
    )
