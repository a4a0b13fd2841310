from django.urls import path

from designer.runs import views

app_name = "runs"

urlpatterns = [
    path("<int:project_id>/operations/<int:operation_id>/run/", views.start, name="start"),
    path("<int:project_id>/runs/", views.project_log, name="project_log"),
    path("<int:project_id>/runs/<int:run_id>/", views.run_detail, name="detail"),
    path("<int:project_id>/runs/<int:run_id>/status/", views.run_status, name="status"),
    path("<int:project_id>/runs/<int:run_id>/cancel/", views.run_cancel, name="cancel"),
    path("<int:project_id>/runs/<int:run_id>/rerun/", views.run_rerun, name="rerun"),
    path(
        "<int:project_id>/runs/<int:run_id>/failures.<str:fmt>",
        views.failures_download,
        name="failures_download",
    ),
    path("<int:project_id>/operations/<int:operation_id>/log/", views.operation_log, name="log"),
    path(
        "<int:project_id>/operations/<int:operation_id>/last-run/",
        views.last_run_badge,
        name="last_run_badge",
    ),
    path(
        "<int:project_id>/operations/<int:operation_id>/run-settings/",
        views.operation_settings,
        name="settings",
    ),
    path(
        "<int:project_id>/operations/<int:operation_id>/debug/",
        views.operation_debug,
        name="debug",
    ),
    path(
        "<int:project_id>/operations/<int:operation_id>/schedules/",
        views.schedule_create,
        name="schedule_create",
    ),
    path(
        "<int:project_id>/schedules/<int:schedule_id>/toggle/",
        views.schedule_toggle,
        name="schedule_toggle",
    ),
    path(
        "<int:project_id>/schedules/<int:schedule_id>/delete/",
        views.schedule_remove,
        name="schedule_delete",
    ),
]
