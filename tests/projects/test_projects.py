from __future__ import annotations

import pytest
from django.urls import reverse

from designer.projects.models import Membership, Project, Role


def test_login_page_and_login(client, personas):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b"Log in" in page.content
    response = client.post(
        reverse("login"), {"username": "viewer", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:list")


def test_login_with_a_wrong_password_is_refused(client, personas):
    response = client.post(reverse("login"), {"username": "viewer", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_logout_ends_the_session(client_for):
    client = client_for("viewer")
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("projects:list")).status_code == 302


def test_project_list_shows_only_my_projects(client_for, project, db):
    Project.objects.create(name="Somebody else's")
    response = client_for("viewer").get(reverse("projects:list"))
    assert response.status_code == 200
    assert b"Acme sync" in response.content
    assert b"Somebody else" not in response.content
    assert client_for("outsider").get(reverse("projects:list")).content.count(b"Acme sync") == 0


def test_create_project_makes_me_its_admin(client_for, personas):
    response = client_for("outsider").post(
        reverse("projects:list"), {"name": "  Newsletter  ", "description": ""}
    )
    project = Project.objects.get(name="Newsletter")
    assert response.status_code == 302
    assert response["Location"] == reverse("design:designer", args=[project.pk])
    membership = Membership.objects.get(project=project)
    assert (membership.user.username, membership.role) == ("outsider", Role.ADMIN)


def test_create_project_without_a_name_shows_the_error(client_for):
    response = client_for("viewer").post(reverse("projects:list"), {"name": "", "description": ""})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert Project.objects.count() == 1


def test_admin_renames_with_htmx_partial(client_for, project):
    response = client_for("admin").post(
        reverse("projects:rename", args=[project.pk]), {"name": "Renamed"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b'id="rename-form"' in response.content
    assert b"<html" not in response.content
    project.refresh_from_db()
    assert project.name == "Renamed"


def test_rename_to_blank_is_refused_inline(client_for, project):
    response = client_for("admin").post(
        reverse("projects:rename", args=[project.pk]), {"name": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert b"This field is required" in response.content
    project.refresh_from_db()
    assert project.name == "Acme sync"


@pytest.mark.parametrize("persona", ["editor", "operator", "viewer"])
def test_only_admins_rename_or_delete(client_for, project, persona):
    client = client_for(persona)
    assert (
        client.post(reverse("projects:rename", args=[project.pk]), {"name": "X"}).status_code == 403
    )
    assert client.post(reverse("projects:delete", args=[project.pk])).status_code == 403
    project.refresh_from_db()
    assert project.name == "Acme sync"


def test_admin_deletes_the_project(client_for, project):
    response = client_for("admin").post(reverse("projects:delete", args=[project.pk]))
    assert response.status_code == 302
    assert not Project.objects.filter(pk=project.pk).exists()


def test_designer_page_has_palette_canvas_and_components(client_for, project):
    response = client_for("viewer").get(reverse("design:designer", args=[project.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Project endpoints and connectors" in html
    assert 'aria-label="Design canvas"' in html
    assert "Components" in html
    assert 'hx-headers=\'{"X-CSRFToken": ' in html
    assert f'hx-get="/projects/{project.pk}/presence/"' in html  # who else is here


def test_settings_lists_members_with_roles(client_for, project):
    html = client_for("viewer").get(reverse("projects:settings", args=[project.pk])).content
    for name in (b"admin", b"editor", b"operator", b"viewer"):
        assert name in html
    assert b"outsider" not in html
    assert b"Delete project" not in html
