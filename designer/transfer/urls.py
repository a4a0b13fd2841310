from django.urls import path

from designer.transfer import views

app_name = "transfer"

urlpatterns = [
    path("import/", views.project_import, name="import"),
    path("<int:project_id>/export/", views.project_export, name="export"),
]
