"""The Content-Security-Policy (designer/security.py): sent on every page, strict (no
'unsafe-inline', no 'unsafe-eval'), and the pages really run under it: templates carry no
inline script or style, and Chromium reports no violation on any of the app's pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory
from tests.fixtures.urls import walk
from tests.security.world import build_world, project_routes

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Markup the policy would block: inline <script> bodies, event-handler attributes, htmx's
# hx-on (evaluated code), javascript: URLs, <style> blocks and style attributes.
FORBIDDEN = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "on* attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
    "hx-on": re.compile(r"\s(hx|data-hx)-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "<style> block": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
}
ALLOWED_SCRIPT_TYPES = re.compile(r'type="application/(ld\+)?json"')


def test_the_policy_is_strict():
    from designer.security import content_security_policy

    policy = content_security_policy()
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "designer.security.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE


def test_templates_carry_no_inline_script_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for what, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                if what == "inline <script>" and ALLOWED_SCRIPT_TYPES.search(match.group(0)):
                    continue
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []


@pytest.mark.django_db
def test_every_page_sends_the_policy():
    admin = UserFactory(username="admin", is_staff=True)
    world = build_world(admin=admin)
    client = Client()
    client.force_login(admin)
    pages = 0
    urls = [world.url(route) for route, _ in project_routes()]
    console = [route for route, _ in walk() if route.startswith("console/") and "<" not in route]
    urls += ["/" + route for route in console]
    urls += ["/projects/", "/accounts/login/", "/static/js/app.js"]
    for url in urls:
        if url.endswith(("/delete/", "/remove/", "/oauth/start/")):
            continue
        response = client.get(url)
        if response.status_code != 200:
            continue
        pages += 1
        assert "script-src 'self'" in response.get("Content-Security-Policy", ""), url
    assert pages >= 25
    anonymous = Client().get("/accounts/login/")
    assert "default-src 'self'" in anonymous["Content-Security-Policy"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_breaks_the_policy_in_chromium(page, live_server, login, personas, project):
    """Every page of a filled project (designer with a connection form open, mapping editor,
    files, runs, settings, history, console) loads in Chromium without one violation."""
    admin = personas["admin"]
    admin.is_staff = True
    admin.save()
    world = build_world(admin=admin)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    login(page, "admin")
    pid = world.project.pk
    ids = world.ids
    urls = [
        f"/projects/{pid}/",
        f"/projects/{pid}/?connection={ids['connection_id']}",
        f"/projects/{pid}/transformations/{ids['transformation_id']}/",
        f"/projects/{pid}/files/{ids['files_connection_id']}/",
        f"/projects/{pid}/runs/",
        f"/projects/{pid}/runs/{ids['run_id']}/",
        f"/projects/{pid}/operations/{ids['operation_id']}/log/",
        f"/projects/{pid}/operations/{ids['operation_id']}/run-settings/",
        f"/projects/{pid}/settings/",
        f"/projects/{pid}/history/",
        "/projects/",
        "/console/",
        "/console/runs/",
        f"/console/runs/{ids['run_id']}/",
        "/console/agents/",
        "/console/projects/",
        "/console/users/",
        "/console/audit/",
        "/console/outbox/",
        f"/projects/{pid}/operations/{ids['operation_id']}/notifications/",
    ]
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        page.wait_for_load_state("networkidle")
    # Open the palette's connection form and a component menu: htmx swaps under the policy.
    page.goto(f"/projects/{pid}/")
    page.get_by_text("Constant Contact", exact=True).first.click()
    page.wait_for_load_state("networkidle")
    assert violations == []


@pytest.mark.django_db
def test_the_django_admin_pages_carry_no_inline_script_or_style():
    """The admin is Django's own markup: check what it renders, for every registered model."""
    from django.contrib import admin

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    urls = ["/admin/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [base, base + "add/"]
    found = []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            continue
        text = response.content.decode()
        for what, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                if what == "inline <script>" and ALLOWED_SCRIPT_TYPES.search(match.group(0)):
                    continue
                found.append(f"{url}: {what}: {match.group(0)[:60]}")
    assert len(urls) > 10
    assert found == []
