"""The database-backed ``connectors.base.ConnectionContext``.

Secrets are re-read and written under a row lock, so two workers refreshing a rotating OAuth2
token at the same time serialise and the second sees the first one's new token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction

from designer.crypto import decrypt_json, encrypt_json
from designer.design.models import Connection, ConnectionStatus


class DbConnection:
    def __init__(self, connection: Connection, extras: Mapping[str, Any] | None = None) -> None:
        self._row = connection
        self._extras = dict(extras or {})
        self._config: Mapping[str, Any] | None = None

    @property
    def name(self) -> str:
        return self._row.name

    @property
    def config(self) -> Mapping[str, Any]:
        """Field values with project variables (``[name]``) filled in; raises
        MissingVariable naming any that the project lacks."""
        if self._config is None:
            from designer.projects.variables import resolve

            self._config = resolve(self._row.project, self._row.config)
        return self._config

    @property
    def extras(self) -> Mapping[str, Any]:
        return self._extras

    def secrets(self) -> dict[str, Any]:
        token = (
            Connection.objects.filter(pk=self._row.pk)
            .values_list("secrets_encrypted", flat=True)
            .first()
        )
        return decrypt_json(token or "")

    def update_secrets(self, mutate: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict:
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self._row.pk)
            current = decrypt_json(row.secrets_encrypted)
            new = mutate(dict(current))
            if new is not None and new != current:
                row.secrets_encrypted = encrypt_json(new)
                row.save(update_fields=["secrets_encrypted", "updated_at"])
                return dict(new)
            return current

    def mark_needs_reconnect(self, message: str) -> None:
        Connection.objects.filter(pk=self._row.pk).update(
            status=ConnectionStatus.NEEDS_RECONNECT, status_message=message
        )
