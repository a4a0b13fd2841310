from django.apps import AppConfig


class TransferConfig(AppConfig):
    """Project export/import and the demo project: above design and runs, which they fill."""

    name = "designer.transfer"
    label = "transfer"
