"""Restoring the version before a recorded change (issue 16.3): what comes back, what is
refused, and that a refusal changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from designer.audit.models import AuditEntry
from designer.audit.services import RestoreError, component_revert
from designer.design.models import Operation, Transformation
from designer.design.versioning import versioned_update
from tests.factories import OperationFactory, TransformationFactory

FIRST = [{"target": "email", "kind": "path", "value": "Email"}]
SECOND = [{"target": "email", "kind": "constant", "value": "x@example.com"}]


def change(model, obj, user, **fields) -> AuditEntry:
    versioned_update(model, pk=obj.pk, expected_version=None, user=user, **fields)
    return AuditEntry.objects.filter(component_kind=model._meta.model_name).first()


def test_the_earlier_mapping_comes_back_as_a_new_recorded_version(project, personas):
    transformation = TransformationFactory(project=project, mapping=FIRST, version=1)
    entry = change(Transformation, transformation, personas["editor"], mapping=SECOND)
    component_revert(entry=entry, actor=personas["admin"])
    transformation.refresh_from_db()
    assert transformation.mapping == FIRST
    assert transformation.version == 3
    assert transformation.updated_by == personas["admin"]
    latest = AuditEntry.objects.filter(component_kind="transformation").first()
    assert latest.action == "update" and latest.actor == personas["admin"]
    assert latest.before["mapping"] == SECOND and latest.after["mapping"] == FIRST


def test_a_name_taken_since_is_refused_and_nothing_changes(project, personas):
    transformation = TransformationFactory(project=project, name="Old", mapping=FIRST)
    entry = change(Transformation, transformation, None, name="New", mapping=SECOND)
    TransformationFactory(project=project, name="Old")
    with pytest.raises(RestoreError, match="name is taken"):
        component_revert(entry=entry, actor=personas["admin"])
    transformation.refresh_from_db()
    assert (transformation.name, transformation.mapping) == ("New", SECOND)


def test_a_reference_deleted_since_is_refused(project, personas):
    old_next = OperationFactory(project=project, name="Old next")
    new_next = OperationFactory(project=project, name="New next")
    operation = OperationFactory(project=project, on_success=old_next)
    entry = change(Operation, operation, None, on_success=new_next)
    old_next.delete()
    with pytest.raises(RestoreError, match="it used has been deleted since"):
        component_revert(entry=entry, actor=personas["admin"])


def test_only_a_change_can_be_reverted_and_only_by_designers(client_for, project, personas):
    transformation = TransformationFactory(project=project, mapping=FIRST)
    entry = change(Transformation, transformation, None, mapping=SECOND)
    url = reverse("projects:revert", args=[project.pk, entry.pk])
    assert client_for("viewer").post(url).status_code == 403
    assert client_for("outsider").post(url).status_code == 404
    create = AuditEntry.objects.create(project=project, action="create", component_kind="x")
    with pytest.raises(RestoreError, match="Only a change"):
        component_revert(entry=create, actor=personas["admin"])
    response = client_for("editor").post(url)
    assert response.status_code == 302
    transformation.refresh_from_db()
    assert transformation.mapping == FIRST
