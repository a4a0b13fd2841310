from __future__ import annotations

import pytest
from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.projects import services
from designer.projects.models import Variable
from designer.projects.variables import MissingVariable, references, resolve
from tests.factories import ProjectFactory


def make(project, name, value, secret=False, actor=None):
    return services.variable_create(
        project=project, name=name, value=value, is_secret=secret, actor=actor
    )


def test_resolve_replaces_in_strings_dicts_and_lists(project):
    make(project, "base", "https://api.cc.email")
    make(project, "list_id", "L-1")
    make(project, "key", "hunter2", secret=True)
    value = {
        "base_url": "[base]/v3",
        "lists": ["[list_id]", "fixed", 3],
        "nested": {"auth": "Bearer [key]", "literal": r"\[base]"},
        "n": None,
    }
    assert resolve(project, value) == {
        "base_url": "https://api.cc.email/v3",
        "lists": ["L-1", "fixed", 3],
        "nested": {"auth": "Bearer hunter2", "literal": "[base]"},
        "n": None,
    }
    assert resolve(project, "plain") == "plain"
    assert references(value) == {"base", "list_id", "key"}


def test_missing_variable_is_named(project):
    make(project, "base", "x")
    with pytest.raises(MissingVariable) as caught:
        resolve(project, {"a": "[base]", "b": ["[nope]", "[also_missing]"]})
    assert caught.value.names == ["also_missing", "nope"]
    assert "[also_missing], [nope]" in str(caught.value)
    assert "Acme sync" in str(caught.value)


def test_variables_of_another_project_dont_resolve(project):
    make(ProjectFactory(), "base", "theirs")
    with pytest.raises(MissingVariable, match=r"\[base\]"):
        resolve(project, "[base]")


def test_secret_value_is_encrypted_and_never_rendered(client_for, project):
    response = client_for("editor").post(
        reverse("projects:variable_create", args=[project.pk]),
        {"name": "api_key", "value": "hunter2-very-secret", "is_secret": "on"},
    )
    assert response.status_code == 302
    variable = Variable.objects.get(name="api_key")
    assert variable.value == ""
    assert "hunter2" not in variable.value_encrypted
    assert variable.resolved_value() == "hunter2-very-secret"
    html = client_for("viewer").get(reverse("projects:settings", args=[project.pk])).content
    assert b"[api_key]" in html and b"hunter2" not in html
    html = client_for("editor").get(reverse("projects:settings", args=[project.pk])).content
    assert b"hunter2" not in html
    entry = AuditEntry.objects.get(component_kind="variable", action="create")
    assert "hunter2" not in str(entry.after) and entry.after["is_secret"] is True


def test_secret_left_blank_keeps_its_value(client_for, project):
    variable = make(project, "api_key", "s1", secret=True)
    response = client_for("editor").post(
        reverse("projects:variable_update", args=[project.pk, variable.pk]),
        {
            f"v{variable.pk}-name": "api_key",
            f"v{variable.pk}-value": "",
            f"v{variable.pk}-is_secret": "on",
            f"v{variable.pk}-version": "1",
        },
    )
    assert response.status_code == 302
    variable.refresh_from_db()
    assert (variable.resolved_value(), variable.version) == ("s1", 2)


def test_bad_or_duplicate_name_is_refused_and_nothing_saved(client_for, project):
    make(project, "base", "x")
    client = client_for("editor")
    response = client.post(
        reverse("projects:variable_create", args=[project.pk]), {"name": "1bad", "value": "v"}
    )
    assert response.status_code == 422
    assert "Start with a letter" in response.content.decode()
    response = client.post(
        reverse("projects:variable_create", args=[project.pk]), {"name": "base", "value": "v"}
    )
    assert response.status_code == 422
    assert b"already exists" in response.content
    assert Variable.objects.get(project=project).value == "x"


def test_stale_variable_save_is_refused_naming_who(client_for, project, personas):
    variable = make(project, "base", "one", actor=personas["admin"])
    first, second = client_for("editor"), client_for("admin")
    edit = reverse("projects:variable_update", args=[project.pk, variable.pk])
    p = f"v{variable.pk}-"
    assert (
        second.post(edit, {p + "name": "base", p + "value": "two", p + "version": "1"}).status_code
        == 302
    )
    response = first.post(edit, {p + "name": "base", p + "value": "three", p + "version": "1"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by admin" in html and "Reload" in html
    variable.refresh_from_db()
    assert (variable.value, variable.version) == ("two", 2)


@pytest.mark.parametrize("persona", ["operator", "viewer"])
def test_only_designers_change_variables(client_for, project, persona):
    variable = make(project, "base", "x")
    client = client_for(persona)
    assert (
        client.post(
            reverse("projects:variable_create", args=[project.pk]), {"name": "n", "value": "v"}
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("projects:variable_delete", args=[project.pk, variable.pk])).status_code
        == 403
    )
    assert Variable.objects.filter(project=project).count() == 1


def test_delete_then_restore_from_history(client_for, project):
    variable = make(project, "base", "x")
    client = client_for("editor")
    client.post(reverse("projects:variable_delete", args=[project.pk, variable.pk]))
    assert not Variable.objects.filter(project=project).exists()
    entry = AuditEntry.objects.get(action="delete", component_kind="variable")
    response = client.post(reverse("projects:restore", args=[project.pk, entry.pk]))
    assert response.status_code == 302
    restored = Variable.objects.get(project=project)
    assert (restored.name, restored.value) == ("base", "x")


def test_secret_variables_follow_a_key_rotation(project, settings):
    from cryptography.fernet import Fernet

    variable = make(project, "api_key", "hunter2", secret=True)
    old_key = settings.CREDENTIALS_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [new_key, old_key]
    assert services.variable_secrets_rotate() == 1
    settings.CREDENTIALS_KEYS = [new_key]  # the old key is gone: still readable
    variable.refresh_from_db()
    assert variable.resolved_value() == "hunter2"
