"""Connector key -> implementation, a plain dict of lazy dotted paths.

Lazy so that importing the registry never imports every connector's dependencies.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from connectors.base import Connector

CONNECTORS: dict[str, str] = {
    "constant_contact": "connectors.constant_contact.connector.ConstantContactConnector",
    "files": "connectors.files.connector.FilesConnector",
}


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
