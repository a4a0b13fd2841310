"""Two URL sets: the token API under /api/v1/ and the signed-in pages (tokens, triggers)."""

from django.urls import path, re_path

from designer.api import docs, views
from designer.api.api import api

app_name = "api"

# Included at /api/v1/ (JSON API, OpenAPI document, docs).
api_urlpatterns = [
    path("docs", docs.docs, name="docs"),
    path("", api.urls),
    # Anything else under /api/v1/ is a problem document too, not the HTML 404 page.
    re_path(r"^.*$", views.api_not_found, name="not_found"),
]

# Included at / (pages of the app, behind the session login and the project access helper).
urlpatterns = [
    path("account/api-tokens/", views.tokens, name="tokens"),
    path("account/api-tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path(
        "projects/<int:project_id>/operations/<int:operation_id>/api-trigger/",
        views.trigger_settings,
        name="trigger",
    ),
]
