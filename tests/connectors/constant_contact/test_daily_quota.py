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


@pytest.mark.real_pace
@pytest.mark.parametrize("where", ["sqlite", "redis"])
def test_the_quota_is_counted_in_the_slots_own_round_trip(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    connection: LockedConnection,
    cc_sandbox: Sandbox,
    where: str,
) -> None:
    """Call economy: a call costs two shared-store round trips (take a place and count the
    call in one; give the place back), not three (a separate quota count before it). The
    quota still stops the call past it, and nothing is counted for a call not sent."""
    from connectors import sharedstate

    if where == "redis":
        connector_config.configure(redis_url=request.getfixturevalue("redis_url"))
    else:
        connector_config.configure(state_dir=str(tmp_path))
    with ConstantContactClient(connection) as probe:  # Redis may hold earlier tests' calls
        limit = probe.quota.used() + 6
    connector_config.configure(constant_contact_daily_quota=limit, rate_limit_speedup=50.0)
    store = sharedstate.shared_store()
    assert type(store).__name__ == ("RedisStore" if where == "redis" else "SqliteStore")
    trips: list[str] = []
    for name in ("acquire", "release", "count_call"):
        original = getattr(store, name)

        def counted(*args, _name=name, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            trips.append(_name)
            return _original(*args, **kwargs)

        setattr(store, name, counted)
    try:
        with ConstantContactClient(connection) as client:
            for _ in range(6):
                client.get_json("/contacts", params={"limit": 1})
            assert client.quota.used() == limit
            with pytest.raises(ConnectorError) as raised:
                client.get_json("/contacts", params={"limit": 1})
    finally:
        for name in ("acquire", "release", "count_call"):
            delattr(store, name)
        connector_config.configure(
            constant_contact_daily_quota=10_000, rate_limit_speedup=1.0, redis_url=""
        )
    assert raised.value.key == "quota_exceeded"
    assert f"{limit:,} of {limit:,} calls" in raised.value.message
    assert len(cc_sandbox.api_requests()) == 6
    assert "count_call" not in trips
    assert trips.count("release") == 6
    assert trips.count("acquire") >= 7  # a place may be asked for again after a wait
