from django.urls import path

from designer.projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("<int:project_id>/settings/", views.project_settings, name="settings"),
    path("<int:project_id>/rename/", views.project_rename, name="rename"),
    path("<int:project_id>/delete/", views.project_delete, name="delete"),
]
