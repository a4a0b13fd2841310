from django.urls import path

from designer.files import views

app_name = "files"

urlpatterns = [
    path("<int:project_id>/files/<int:connection_id>/", views.files, name="list"),
    path("<int:project_id>/files/<int:connection_id>/upload/", views.upload, name="upload"),
    path(
        "<int:project_id>/files/<int:connection_id>/download/<str:name>",
        views.download,
        name="download",
    ),
    path(
        "<int:project_id>/files/<int:connection_id>/delete/<str:name>",
        views.delete,
        name="delete",
    ),
]
