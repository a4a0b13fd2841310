from django.urls import path

from designer.transformations import file_views, views

app_name = "transformations"

urlpatterns = [
    path("<int:project_id>/transformations/<int:transformation_id>/", views.edit, name="edit"),
    path(
        "<int:project_id>/transformations/<int:transformation_id>/save/",
        views.save,
        name="save",
    ),
    path(
        "<int:project_id>/transformations/<int:transformation_id>/automap/",
        views.automap,
        name="automap",
    ),
    path(
        "<int:project_id>/transformations/<int:transformation_id>/preview/",
        views.preview,
        name="preview",
    ),
    path("<int:project_id>/files/<int:connection_id>/", file_views.files, name="files"),
    path(
        "<int:project_id>/files/<int:connection_id>/upload/",
        file_views.upload,
        name="files_upload",
    ),
    path(
        "<int:project_id>/files/<int:connection_id>/download/<str:name>",
        file_views.download,
        name="files_download",
    ),
    path(
        "<int:project_id>/files/<int:connection_id>/delete/<str:name>",
        file_views.delete,
        name="files_delete",
    ),
]
