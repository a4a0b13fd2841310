"""The tests' worker processes wait less between retries (CONNECTOR_RETRY_SPEEDUP): the same
tries, each backoff divided. Production leaves it at 1."""

from __future__ import annotations

import random

import pytest

from connectors.config import configure, connector_settings
from connectors.http import RetryPolicy

POLICY = RetryPolicy(max_tries=6, base_delay=1.0, max_delay=30.0, max_total_wait=120.0)


@pytest.fixture
def speedup():
    before = connector_settings().retry_speedup
    yield lambda factor: configure(retry_speedup=factor)
    configure(retry_speedup=before)


def test_production_backs_off_from_the_base_delay(speedup):
    speedup(1.0)
    first = POLICY.delay(1, random.Random(3))
    assert 0.5 <= first <= 1.0  # equal jitter: half the 1 s step fixed, half random


def test_a_speedup_divides_every_wait_and_keeps_the_tries(speedup):
    speedup(1.0)
    normal = POLICY.schedule(random.Random(5))
    speedup(10.0)
    fast = POLICY.schedule(random.Random(5))
    assert len(fast) == len(normal) == POLICY.max_tries - 1
    assert fast == pytest.approx([wait / 10 for wait in normal])


def test_the_setting_reaches_the_connectors(settings):
    from django.apps import apps

    settings.CONNECTOR_RETRY_SPEEDUP = 7.0
    before = connector_settings()
    try:
        apps.get_app_config("design").ready()
        assert connector_settings().retry_speedup == 7.0
    finally:
        configure(**before.__dict__)
