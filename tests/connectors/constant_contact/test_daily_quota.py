"""Issue 17.7: Constant Contact's daily quota (10,000 calls per API key per UTC day),
counted ahead in the shared store, so a run stops before the far side refuses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import config as connector_config
from connectors.base import ConnectorError, RunContext
from connectors.constant_contact.activities.query import QueryContacts
from connectors.constant_contact.client import ConstantContactClient, calls_today
from connectors.constant_contact.connector import ConstantContactConnector
from connectors.constant_contact.sandbox import Sandbox
from tests.connectors.constant_contact.conftest import LockedConnection, make_connection


@pytest.fixture
def quota_of_five(tmp_path: Path) -> Iterator[None]:
    """A quota of 5 calls, counted in a state folder as worker processes would share it."""
    connector_config.configure(constant_contact_daily_quota=5, state_dir=str(tmp_path))
    yield
    connector_config.configure(constant_contact_daily_quota=10_000)


@pytest.mark.usefixtures("quota_of_five")
def test_a_run_stops_before_the_call_past_the_quota(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    cc_sandbox.seed_contacts(10)
    context = RunContext(connection=connection)
    read: list[dict] = []
    with pytest.raises(ConnectorError) as raised:
        for batch in QueryContacts().read(context, {"page_size": 1}):
            read += batch
    error = raised.value
    assert error.key == "quota_exceeded" and error.permanent  # no retry can cure it today
    assert "5 of 5 calls" in error.message and "00:00 UTC" in error.message
    assert len(read) == 5  # exactly the calls the quota allowed, each a page of one
    assert len(cc_sandbox.api_requests()) == 5  # the sixth was never sent
    assert calls_today(connection.config) == (5, 5)


@pytest.mark.usefixtures("quota_of_five")
def test_every_client_of_the_key_spends_the_same_quota(
    connection: LockedConnection, cc_sandbox: Sandbox, cc_tokens: dict
) -> None:
    for _ in range(3):
        with ConstantContactClient(connection) as client:
            client.get_json("/contacts", params={"limit": 1})
    # Another connection with the same API key at the same server: the same quota.
    twin = make_connection(cc_sandbox, cc_tokens)
    with ConstantContactClient(twin) as client:
        client.get_json("/contacts", params={"limit": 1})
        client.get_json("/contacts", params={"limit": 1})
        with pytest.raises(ConnectorError) as raised:
            client.get_json("/contacts", params={"limit": 1})
    assert raised.value.key == "quota_exceeded"
    # Retries are calls too, and the Test button's: the count is what Constant Contact sees.
    assert calls_today(twin.config) == (5, 5) and len(cc_sandbox.api_requests()) == 5
    other_key = make_connection(cc_sandbox, cc_tokens, client_id="another-app")
    assert calls_today(other_key.config) == (0, 5)


def test_usage_reads_today_of_the_default_quota(
    connection: LockedConnection, cc_sandbox: Sandbox
) -> None:
    with ConstantContactClient(connection) as client:
        client.get_json("/contacts", params={"limit": 1})
    assert ConstantContactConnector().usage(connection.config) == "today: 1 of 10,000 calls"
