"""Throttle password guessing without locking out everyone.

Failures are counted per (username, client address): ten wrong passwords for one user lock out
that user from that address only, never another user behind the same address nor the same
user elsewhere. A looser count per address (``LOGIN_MAX_FAILURES_PER_ADDRESS``) still stops
one address trying many user names. Counts live in the cache, so every web node shares them
when the cache is Redis.

Behind a load balancer ``REMOTE_ADDR`` is the balancer, which would put every user in one
bucket. With ``TRUSTED_PROXY_COUNT = N`` the client is the N-th address from the right of
X-Forwarded-For: each trusted proxy appends the address it saw, so anything further left was
written by the client and can't be trusted.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str:
    """The client's IP address, through ``TRUSTED_PROXY_COUNT`` proxies."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if not forwarded:
        return remote
    candidate = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not an address: a misconfigured proxy; don't trust it
        return remote


def _digest(text: str) -> str:
    # Cache keys have a length and character limit; user names are free text.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _counters(request: HttpRequest) -> list[tuple[str, int]]:
    username = (request.POST.get("username") or "").strip().lower()
    address = client_address(request)
    return [
        (f"login-fail:user-addr:{_digest(username + '|' + address)}", settings.LOGIN_MAX_FAILURES),
        (f"login-fail:addr:{_digest(address)}", settings.LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


def _blocked(request: HttpRequest) -> bool:
    return any(cache.get(key, 0) >= limit for key, limit in _counters(request))


def _count_failure(request: HttpRequest) -> None:
    for key, _limit in _counters(request):
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and _blocked(request):
        minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
        return render(
            request,
            "registration/login.html",
            {"throttled": f"Too many failed attempts. Try again in {minutes} minutes."},
            status=429,
        )
    response = auth_views.LoginView.as_view()(request)
    if request.method == "POST" and response.status_code == 200:  # the form came back: failed
        _count_failure(request)
    return response
