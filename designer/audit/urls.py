from django.urls import path

from designer.audit import views

app_name = "audit"

urlpatterns = [
    path("<int:project_id>/history/", views.project_history, name="history"),
    path(
        "<int:project_id>/history/<int:entry_id>/restore/",
        views.component_restore,
        name="restore",
    ),
]
