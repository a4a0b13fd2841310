from django.apps import AppConfig


class TransformationsConfig(AppConfig):
    name = "designer.transformations"
    label = "transformations"
