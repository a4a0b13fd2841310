from django.urls import path

from designer.design import views

app_name = "design"

urlpatterns = [
    path("<int:project_id>/", views.designer, name="designer"),
]
