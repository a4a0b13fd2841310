from __future__ import annotations

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_others_with_the_designer_open_are_shown(client_for, project):
    url = reverse("projects:presence", args=[project.pk])
    first = client_for("editor").get(url, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert b"Also here" not in first.content  # alone so far
    html = client_for("viewer").get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Also here" in html and ">editor<" in html and ">viewer<" not in html
    html = client_for("editor").get(url).content.decode()
    assert ">viewer<" in html and ">editor<" not in html
    assert 'hx-trigger="every 15s"' in html


def test_viewers_expire_when_their_polls_stop(client_for, project, monkeypatch):
    import time

    from designer.projects import presence

    url = reverse("projects:presence", args=[project.pk])
    client_for("viewer").get(url)
    later = time.time() + presence.STALE_SECONDS + 1
    monkeypatch.setattr(presence.time, "time", lambda: later)
    assert presence.present_users(project_id=project.pk) == []


def test_presence_is_per_project(client_for, project):
    from tests.factories import MembershipFactory, ProjectFactory

    other = ProjectFactory()
    MembershipFactory(project=other, user=project.members.get(username="viewer"))
    client_for("viewer").get(reverse("projects:presence", args=[other.pk]))
    html = client_for("editor").get(reverse("projects:presence", args=[project.pk])).content
    assert b"viewer" not in html


def test_included_partial_starts_polling_at_once(project):
    html = render_to_string("projects/_presence.html", {"project": project})
    assert 'hx-trigger="load, every 15s"' in html
    assert reverse("projects:presence", args=[project.pk]) in html
