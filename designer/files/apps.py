from typing import Any

from django.apps import AppConfig
from django.urls import reverse


def files_page(connection: Any) -> tuple[str, str]:
    return "Manage files", reverse("files:list", args=[connection.project_id, connection.pk])


def file_download(connection: Any, name: str) -> str:
    return reverse("files:download", args=[connection.project_id, connection.pk, name])


class FilesConfig(AppConfig):
    """The Files connector's Django side: each Files connection's folder, its pages (list,
    upload, download, delete) and the project's Files quota."""

    name = "designer.files"
    label = "files"
    verbose_name = "Files connector"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete

        from connectors.files.connector import configure_limits
        from designer.design import integrations
        from designer.design.models import Connection
        from designer.files.storage import (
            FILES_CONNECTOR,
            connection_extras,
            folder_remove_on_delete,
        )

        # The Files connector is plain Python: hand it the deployment's limits once, in web
        # and worker processes alike.
        configure_limits(
            max_file_bytes=settings.FILES_MAX_FILE_BYTES, max_rows=settings.FILES_MAX_ROWS
        )
        # A Files connection's folder, handed to the connector at Test, preview and run time
        # through the contract (ConnectionContext.extras), chosen by connector key.
        integrations.register_connection_extras(FILES_CONNECTOR, connection_extras)
        # Pages showing a Files connection (the mapping editor) link to its files.
        integrations.register_connection_page(FILES_CONNECTOR, files_page)
        # A run's page links to the file its Files target wrote.
        integrations.register_connection_file(FILES_CONNECTOR, file_download)
        # A deleted Files connection (or its project) takes its folder along.
        post_delete.connect(
            folder_remove_on_delete, sender=Connection, dispatch_uid="files-folder-remove"
        )
