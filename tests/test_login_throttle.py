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


# --------------------------------------------------------------- issue 17.10: no lock-out of all
PASSWORD = "correct horse battery staple"


def _login(client, username, password, address="198.51.100.7", forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_ten_failures_for_one_user_do_not_lock_out_another_user_at_that_address(
    client, personas, settings
):
    settings.LOGIN_MAX_FAILURES = 10
    for _ in range(10):
        assert _login(client, "viewer", "wrong").status_code == 200
    assert _login(client, "viewer", PASSWORD).status_code == 429  # that user, that address
    assert _login(client, "editor", PASSWORD).status_code == 302  # another user: in
    client.logout()
    # The same user from another address is not locked out either.
    assert _login(client, "viewer", PASSWORD, address="198.51.100.8").status_code == 302


def test_behind_trusted_proxies_the_forwarded_client_address_is_counted(client, personas, settings):
    """Behind the README's load balancer REMOTE_ADDR is the balancer: the client comes from
    X-Forwarded-For, as many hops from the right as there are trusted proxies."""
    settings.LOGIN_MAX_FAILURES = 3
    settings.TRUSTED_PROXY_COUNT = 2
    balancer = "10.0.0.2"
    # A client that forges its own X-Forwarded-For: the two proxies append what they saw.
    forged = "192.0.2.99, 203.0.113.5, 10.0.0.1"
    for _ in range(3):
        assert _login(client, "viewer", "wrong", balancer, forged).status_code == 200
    assert _login(client, "viewer", PASSWORD, balancer, "203.0.113.5, 10.0.0.1").status_code == 429
    # Another person behind the same balancer, same user name: their own count.
    other = _login(client, "viewer", PASSWORD, balancer, "203.0.113.6, 10.0.0.1")
    assert other.status_code == 302
    client.logout()
    # The forged left-most address was never the one counted.
    assert _login(client, "viewer", PASSWORD, balancer, "192.0.2.99, 10.0.0.1").status_code == 302


def test_without_trusted_proxies_a_forwarded_header_is_ignored(client, personas, settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.TRUSTED_PROXY_COUNT = 0
    for index in range(3):
        _login(client, "viewer", "wrong", "198.51.100.7", f"203.0.113.{index}")
    assert _login(client, "viewer", PASSWORD, "198.51.100.7", "203.0.113.200").status_code == 429


def test_one_address_trying_many_users_is_throttled_too(client, personas, settings):
    settings.LOGIN_MAX_FAILURES = 10
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    for name in ("a", "b", "c", "d"):
        assert _login(client, name, "wrong").status_code == 200
    assert _login(client, "viewer", PASSWORD).status_code == 429
    assert _login(client, "viewer", PASSWORD, address="198.51.100.8").status_code == 302
