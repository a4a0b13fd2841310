from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "designer.console"
    label = "console"
