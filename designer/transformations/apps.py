from django.apps import AppConfig


class TransformationsConfig(AppConfig):
    name = "designer.transformations"
    label = "transformations"

    def ready(self) -> None:
        from django.conf import settings

        from connectors.files.connector import configure_limits

        # The Files connector is plain Python: hand it the deployment's limits once, in web
        # and worker processes alike.
        configure_limits(
            max_file_bytes=settings.FILES_MAX_FILE_BYTES, max_rows=settings.FILES_MAX_ROWS
        )
