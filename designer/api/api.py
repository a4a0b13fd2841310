"""The NinjaAPI instance: /api/v1/, its OpenAPI document and docs page, problem details."""

from __future__ import annotations

from ninja import NinjaAPI

from designer.api import endpoints, hooks
from designer.api.problems import install_handlers

api = NinjaAPI(
    title="Integration Designer API",
    version="1",
    description=(
        "Start and watch operation runs from other systems. Authenticate with a personal "
        "API token (Authorization: Bearer idt_...; create one on your API tokens page) with "
        "the scope the call needs: read for GET, run for POST. Errors are RFC 9457 problem "
        "details (application/problem+json). Lists are cursor-paginated: follow `next`."
    ),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url=None,  # the app renders its own docs page (designer/api/docs.py)
)
install_handlers(api)
api.add_router("", endpoints.router)
api.add_router("", hooks.router)
