from django.urls import path

from designer.console import views

app_name = "console"

urlpatterns = [
    path("", views.index, name="index"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("agents/", views.agents, name="agents"),
    path("projects/", views.projects, name="projects"),
    path("users/", views.users, name="users"),
    path("audit/", views.audit, name="audit"),
]
