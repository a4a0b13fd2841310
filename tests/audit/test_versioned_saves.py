"""Design saves go through one conditional UPDATE, which sends no model signal: the history
is written by that save itself, with before and after values."""

from __future__ import annotations

import pytest

from designer.audit.models import AuditEntry
from designer.design.services import transformation_rename
from designer.design.versioning import StaleVersion
from tests.factories import TransformationFactory

pytestmark = pytest.mark.django_db


def test_a_rename_is_in_the_history_with_before_and_after(project, personas):
    transformation = TransformationFactory(project=project, name="Old name")
    transformation_rename(
        transformation=transformation, expected_version=1, name="New name", user=personas["editor"]
    )
    entry = AuditEntry.objects.filter(project=project, action="update").get()
    assert (entry.actor_name, entry.component_kind) == ("editor", "transformation")
    assert entry.before["name"] == "Old name"
    assert entry.after["name"] == "New name"


def test_a_refused_stale_save_leaves_no_history(project, personas):
    transformation = TransformationFactory(project=project, name="Kept")
    with pytest.raises(StaleVersion):
        transformation_rename(
            transformation=transformation, expected_version=7, name="Lost", user=personas["editor"]
        )
    assert not AuditEntry.objects.filter(project=project, action="update").exists()
