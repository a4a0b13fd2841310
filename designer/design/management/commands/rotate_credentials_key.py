"""Re-encrypt every stored credential with the primary key (the first of CREDENTIALS_KEYS).

Rotation: put the new key first in CREDENTIALS_KEYS, keep the old one after it, deploy, run
this command, then drop the old key.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from designer.crypto import rotate
from designer.design.models import Connection
from designer.projects.services import variable_secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt stored connection secrets and secret variables with the primary key."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        connections = 0
        rows = Connection.objects.select_for_update().exclude(secrets_encrypted="")
        for pk, token in rows.values_list("pk", "secrets_encrypted"):
            Connection.objects.filter(pk=pk).update(secrets_encrypted=rotate(token))
            connections += 1
        variables = variable_secrets_rotate()
        self.stdout.write(
            f"Re-encrypted the secrets of {connections} connections and {variables} variables."
        )
