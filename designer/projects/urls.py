from django.urls import path

from designer.projects import history_views, presence, views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("<int:project_id>/settings/", views.project_settings, name="settings"),
    path("<int:project_id>/rename/", views.project_rename, name="rename"),
    path("<int:project_id>/delete/", views.project_delete, name="delete"),
    path("<int:project_id>/members/invite/", views.member_invite, name="member_invite"),
    path(
        "<int:project_id>/members/<int:membership_id>/role/",
        views.member_change_role,
        name="member_role",
    ),
    path(
        "<int:project_id>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("<int:project_id>/variables/", views.variable_create, name="variable_create"),
    path(
        "<int:project_id>/variables/<int:variable_id>/",
        views.variable_update,
        name="variable_update",
    ),
    path(
        "<int:project_id>/variables/<int:variable_id>/delete/",
        views.variable_delete,
        name="variable_delete",
    ),
    path("<int:project_id>/presence/", presence.presence, name="presence"),
    path("<int:project_id>/history/", history_views.project_history, name="history"),
    path(
        "<int:project_id>/history/<int:entry_id>/restore/",
        history_views.component_restore,
        name="restore",
    ),
    path(
        "<int:project_id>/history/<int:entry_id>/revert/",
        history_views.component_revert,
        name="revert",
    ),
]
