"""Two invitations of the same new address at the same moment (two Admins, a double click)
end as one open invitation, not a server error. On PostgreSQL the second insert waits on the
unique index for the first to commit; on SQLite the second transaction waits to begin."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from designer.accounts.models import Invitation
from designer.accounts.services import invitation_create, token_hash


@pytest.mark.django_db(transaction=True)
def test_concurrent_invitations_of_one_address_share_one_row(project, personas):
    inserted = threading.Event()

    def first_admin() -> None:
        try:
            with transaction.atomic():
                Invitation.objects.create(email="twice@example.org", token_hash=token_hash("a"))
                inserted.set()
                time.sleep(1.0)  # still uncommitted while the second invite runs
        finally:
            connection.close()

    other = threading.Thread(target=first_admin)
    other.start()
    assert inserted.wait(10)
    invitation = invitation_create(
        email="twice@example.org", actor=personas["admin"], project=project, role="viewer"
    )
    other.join(10)
    assert Invitation.objects.filter(email="twice@example.org").count() == 1
    assert invitation.grants.get().project == project
    assert invitation.token_hash != token_hash("a")  # a fresh link was issued on the shared row
