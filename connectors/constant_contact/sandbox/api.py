"""The V3 operations the sandbox implements, keyed by (METHOD, contract path template).

Each handler gets the sandbox state and a parsed, already contract-validated request,
and returns (status, JSON body). Anything the contract has but this table lacks is
answered 501 by the dispatcher, so a connector never silently gets a fake success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .contact_model import shape
from .contact_query import query_contacts, split_csv

if TYPE_CHECKING:
    from .service import SandboxService


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


@route("POST", "/contacts")
def create_contact(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    status, contact = service.contacts.create(request.body)
    return status, shape(contact, set())


@route("GET", "/contacts/{contact_id}")
def get_contact(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    contact = service.contacts.get(request.path_params["contact_id"])
    return 200, shape(contact, set(split_csv(request.query.get("include"))))


@route("PUT", "/contacts/{contact_id}")
def put_contact(service: SandboxService, request: ApiRequest) -> tuple[int, Any]:
    contact = service.contacts.replace(request.path_params["contact_id"], request.body)
    return 200, shape(contact, set())


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
