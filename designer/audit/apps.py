from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "designer.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from designer.audit import signals

        signals.connect()
