from django.apps import AppConfig


class TransformationsConfig(AppConfig):
    name = "designer.transformations"
    label = "transformations"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete

        from connectors.files.connector import configure_limits
        from designer.design import integrations
        from designer.design.models import Connection
        from designer.transformations.storage import connection_extras, folder_remove_on_delete

        # The Files connector is plain Python: hand it the deployment's limits once, in web
        # and worker processes alike.
        configure_limits(
            max_file_bytes=settings.FILES_MAX_FILE_BYTES, max_rows=settings.FILES_MAX_ROWS
        )
        # A Files connection's folder, handed to the connector at Test and at run time.
        integrations.register_connection_extras("files", connection_extras)
        # A deleted Files connection (or its project) takes its folder along.
        post_delete.connect(
            folder_remove_on_delete, sender=Connection, dispatch_uid="files-folder-remove"
        )
