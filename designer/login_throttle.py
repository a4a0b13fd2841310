"""Throttle password guessing: after too many failed logins for one username or from one
address, refuse further attempts for a while (cache-backed, so shared by every web node when
the cache is Redis)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _keys(request: HttpRequest) -> list[str]:
    username = (request.POST.get("username") or "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "")
    return [f"login-fail:user:{username}", f"login-fail:addr:{address}"]


def _blocked(request: HttpRequest) -> bool:
    return any(cache.get(key, 0) >= settings.LOGIN_MAX_FAILURES for key in _keys(request))


def _count_failure(request: HttpRequest) -> None:
    for key in _keys(request):
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
