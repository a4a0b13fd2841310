from django.urls import path

from designer.notifications import views

app_name = "notifications"

# Mounted under projects/.
urlpatterns = [
    path(
        "<int:project_id>/operations/<int:operation_id>/notifications/",
        views.operation_notifications,
        name="edit",
    ),
]
