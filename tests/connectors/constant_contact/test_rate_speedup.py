"""The tests' worker processes pace Constant Contact calls faster (CONNECTOR_RATE_LIMIT_SPEEDUP):
the same pacing, its window and spacing divided. Production leaves it at 1."""

from __future__ import annotations

import pytest

from connectors.config import configure, connector_settings
from connectors.constant_contact.client import rate_limiter_for
from connectors.constant_contact.settings import RATE_LIMIT_PER_SECOND, RATE_WINDOW_SECONDS


@pytest.fixture
def speedup():
    before = connector_settings().rate_limit_speedup
    yield lambda factor: configure(rate_limit_speedup=factor)
    configure(rate_limit_speedup=before)


def test_production_paces_at_the_documented_rate(speedup):
    speedup(1.0)
    pace = rate_limiter_for("key").pace
    assert pace.calls == RATE_LIMIT_PER_SECOND
    assert pace.spacing == RATE_WINDOW_SECONDS / RATE_LIMIT_PER_SECOND
    assert pace.window > RATE_WINDOW_SECONDS


def test_a_speedup_divides_the_window_and_the_spacing(speedup):
    speedup(1.0)
    normal = rate_limiter_for("key").pace
    speedup(100.0)
    fast = rate_limiter_for("key").pace
    assert fast.calls == normal.calls
    assert fast.window == pytest.approx(normal.window / 100)
    assert fast.spacing == pytest.approx(normal.spacing / 100)
    assert fast.hold == normal.hold  # an unanswered call is still held as long


def test_the_setting_reaches_the_connectors(settings):
    from django.apps import apps

    settings.CONNECTOR_RATE_LIMIT_SPEEDUP = 7.0
    before = connector_settings()
    try:
        apps.get_app_config("design").ready()
        assert connector_settings().rate_limit_speedup == 7.0
    finally:
        configure(**before.__dict__)
