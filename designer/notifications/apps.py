from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "designer.notifications"
    label = "notifications"
    verbose_name = "Run notifications"

    def ready(self) -> None:
        from designer.notifications.services import notify_run_finished
        from designer.runs.signals import run_finished

        run_finished.connect(notify_run_finished, dispatch_uid="notifications_run_finished")
