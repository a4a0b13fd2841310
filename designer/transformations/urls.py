from django.urls import path

from designer.transformations import views

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
]
