from __future__ import annotations

import pytest

from connectors import registry


@pytest.fixture
def fake_connector(monkeypatch):
    """Registers tests.design.fake_connector as "fake_crm" for one test."""
    monkeypatch.setitem(
        registry.CONNECTORS, "fake_crm", "tests.design.fake_connector.FakeCrmConnector"
    )
    registry.get_connector.cache_clear()
    yield registry.get_connector("fake_crm")
    registry.get_connector.cache_clear()
