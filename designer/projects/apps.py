from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "designer.projects"
    label = "projects"
