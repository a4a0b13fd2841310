"""Connector key -> implementation, a plain dict of lazy dotted paths.

Lazy so that importing the registry never imports every connector's dependencies. The list is
the deployment's ``CONNECTORS`` setting (Django's settings, read when this module is first
imported; ``EXTRA_CONNECTORS`` in the environment adds to it); without Django settings, as in
a script or a benchmark, it is the built-in connectors.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from connectors.base import Connector

BUILT_IN: dict[str, str] = {
    "constant_contact": "connectors.constant_contact.connector.ConstantContactConnector",
    "files": "connectors.files.connector.FilesConnector",
}


def _configured() -> dict[str, str]:
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return dict(BUILT_IN)
    try:
        return dict(settings.CONNECTORS)
    except (ImproperlyConfigured, AttributeError):  # no settings module, or no such setting
        return dict(BUILT_IN)


CONNECTORS: dict[str, str] = _configured()


@cache
def get_connector(key: str) -> Connector:
    try:
        dotted = CONNECTORS[key]
    except KeyError:
        raise KeyError(f"Unknown connector {key!r}") from None
    module_name, _, class_name = dotted.rpartition(".")
    return getattr(import_module(module_name), class_name)()


def all_connectors() -> list[Connector]:
    return sorted((get_connector(key) for key in CONNECTORS), key=lambda c: c.name)
