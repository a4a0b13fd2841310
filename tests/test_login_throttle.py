from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_failed_logins_are_throttled_then_even_the_right_password_waits(client, personas, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        response = client.post(reverse("login"), {"username": "viewer", "password": "wrong"})
        assert response.status_code == 200
    blocked = client.post(
        reverse("login"), {"username": "viewer", "password": "correct horse battery staple"}
    )
    assert blocked.status_code == 429
    assert b"Too many failed attempts" in blocked.content
    assert "_auth_user_id" not in client.session


def test_a_successful_login_is_not_counted(client, personas, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(3):
        ok = client.post(
            reverse("login"), {"username": "viewer", "password": "correct horse battery staple"}
        )
        assert ok.status_code == 302
        client.logout()
