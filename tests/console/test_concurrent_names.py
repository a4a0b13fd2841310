"""A name taken at the same moment by someone else (two staff users, a double click) is
refused with the usual message, not a server error: the unique index decides, the service
explains. Meaningful on PostgreSQL (the second insert waits for the first to commit); on
SQLite the second transaction waits to begin and sees the row."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from designer.accounts.services import AccountError, user_create
from designer.console.models import AgentGroup
from designer.console.services import AgentGroupError, agent_group_create
from tests.factories import UserFactory


def while_uncommitted(insert: Callable[[], object], then: Callable[[], object]) -> object:
    """Run ``insert`` in another thread's transaction, and ``then`` here before it commits."""
    inserted = threading.Event()

    def other() -> None:
        try:
            with transaction.atomic():
                insert()
                inserted.set()
                time.sleep(1.0)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert inserted.wait(10)
        return then()
    finally:
        thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_username_taken_meanwhile_is_refused_cleanly(staff):
    with pytest.raises(AccountError, match="is taken"):
        while_uncommitted(
            lambda: UserFactory(username="ann", email="a1@example.org"),
            lambda: user_create(
                username="ann", email="a2@example.org", password="plum tree lantern 42", actor=staff
            ),
        )


@pytest.mark.django_db(transaction=True)
def test_group_name_taken_meanwhile_is_refused_cleanly(staff):
    with pytest.raises(AgentGroupError, match="already exists"):
        while_uncommitted(
            lambda: AgentGroup.objects.create(name="eu"),
            lambda: agent_group_create(name="eu", actor=staff),
        )
    assert AgentGroup.objects.filter(name="eu").count() == 1
