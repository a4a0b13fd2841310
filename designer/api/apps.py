from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "designer.api"
    label = "api"
    verbose_name = "Public API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from designer.api import logging as api_logging

        api_logging.install()
