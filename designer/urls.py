from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic.base import RedirectView

from designer.accounts.urls import project_urlpatterns as project_invitation_urls
from designer.api.urls import api_urlpatterns
from designer.console.urls import project_urlpatterns as project_console_urls
from designer.login_throttle import login_view

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="projects:list"), name="home"),
    # Browsers ask for /favicon.ico whatever the page links; the icon lives in static/.
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.ico", permanent=True)),
    path("accounts/login/", login_view, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("designer.accounts.urls")),
    path("projects/", include("designer.projects.urls")),
    path("projects/", include("designer.design.urls")),
    path("projects/", include("designer.transformations.urls")),
    path("projects/", include("designer.files.urls")),
    path("projects/", include("designer.runs.urls")),
    path("projects/", include((project_invitation_urls, "project_invitations"))),
    path("projects/", include((project_console_urls, "project_console"))),
    path("projects/", include("designer.notifications.urls")),
    path("projects/", include("designer.transfer.urls")),
    path("console/", include("designer.console.urls")),
    path("", include("designer.api.urls")),
    path("api/v1/", include(api_urlpatterns)),
    path("admin/", admin.site.urls),
]

# Friendly error pages with a way back (and the message for htmx requests).
handler403 = "designer.error_views.permission_denied"
handler404 = "designer.error_views.page_not_found"
