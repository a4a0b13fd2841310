from django.urls import path

from designer.console import endpoint_views, group_views, user_views, views

app_name = "console"

urlpatterns = [
    path("", views.index, name="index"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("agents/", group_views.agents, name="agents"),
    path("agents/<int:agent_id>/", group_views.agent_detail, name="agent"),
    path("agent-groups/create/", group_views.group_create, name="group_create"),
    path("agent-groups/<int:group_id>/rename/", group_views.group_rename, name="group_rename"),
    path("agent-groups/<int:group_id>/delete/", group_views.group_delete, name="group_delete"),
    path("projects/<int:pk>/agent-group/", group_views.project_group, name="project_group"),
    path("projects/", views.projects, name="projects"),
    path("users/", user_views.users, name="users"),
    path("users/create/", user_views.user_create, name="user_create"),
    path("users/invite/", user_views.user_invite, name="user_invite"),
    path("users/<int:user_id>/active/", user_views.user_active, name="user_active"),
    path("users/<int:user_id>/staff/", user_views.user_staff, name="user_staff"),
    path(
        "users/<int:user_id>/password-reset/",
        user_views.user_password_reset,
        name="user_password_reset",
    ),
    path(
        "invitations/<int:invitation_id>/resend/",
        user_views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        user_views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("outbox/", user_views.outbox, name="outbox"),
    path("global-endpoints/", endpoint_views.global_endpoints, name="global_endpoints"),
    path(
        "global-endpoints/new/<str:connector_key>/",
        endpoint_views.global_endpoint_new,
        name="global_endpoint_new",
    ),
    path(
        "global-endpoints/<int:connection_id>/",
        endpoint_views.global_endpoint,
        name="global_endpoint",
    ),
    path(
        "global-endpoints/<int:connection_id>/test/",
        endpoint_views.global_endpoint_test,
        name="global_endpoint_test",
    ),
    path(
        "global-endpoints/<int:connection_id>/delete/",
        endpoint_views.global_endpoint_delete,
        name="global_endpoint_delete",
    ),
    path(
        "global-endpoints/<int:connection_id>/oauth/start/",
        endpoint_views.global_endpoint_oauth_start,
        name="global_endpoint_oauth_start",
    ),
    path(
        "global-endpoints/<int:connection_id>/oauth/callback/",
        endpoint_views.global_endpoint_oauth_callback,
        name="global_endpoint_oauth_callback",
    ),
    path("audit/", views.audit, name="audit"),
]

# Project-scoped (mounted under projects/): a project Admin picks the project's agent group.
project_urlpatterns = [
    path(
        "<int:project_id>/agent-group/",
        group_views.project_agent_group,
        name="project_agent_group",
    ),
]
