"""The project history in a real browser: mapping saves are audited with before and after and
an earlier version can be restored (issue 16.3); changes name things, not ids (issue 16.8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.audit.models import AuditEntry
from designer.design.models import Operation, Transformation
from designer.design.operations import step_insert, step_remove
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)

INLINE_CSV = "Email,First Name\nann@example.com,Ann\n"
FIRST = [{"target": "email_address.address", "kind": "path", "value": "Email"}]


@pytest.fixture
def mapped(project, personas, settings, tmp_path):
    settings.FILES_ROOT = tmp_path / "files"
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    source = ActivityFactory(
        connection=files, activity_type="inline", name="People", config={"data": INLINE_CSV}
    )
    cc = ConnectionFactory(project=project, connector_key="constant_contact", name="CC")
    target = ActivityFactory(
        connection=cc, activity_type="create", name="Create", config={"mode": "single"}
    )
    transformation = TransformationFactory(
        project=project, name="People to contacts", mapping=FIRST, version=1
    )
    operation = OperationFactory(
        project=project, name="Import", source=source, transformation=transformation, target=target
    )
    return {"transformation": transformation, "operation": operation, "source": source}


def test_a_mapping_save_is_in_the_history_and_the_earlier_mapping_can_be_restored(
    page, login, project, mapped
):
    transformation = mapped["transformation"]
    login(page, "editor")
    page.goto(f"/projects/{project.pk}/transformations/{transformation.pk}/")
    page.get_by_label("How first_name is mapped").select_option("path")
    page.get_by_label("Mapping of first_name").fill("First Name")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".mapping-status")).to_have_text("Saved (version 2).")

    entry = AuditEntry.objects.get(component_kind="transformation", action="update")
    assert entry.actor.username == "editor"
    assert entry.before["mapping"] == FIRST
    assert len(entry.after["mapping"]) == 2

    page.goto(f"/projects/{project.pk}/history/")
    row = page.locator(f"#audit-{entry.pk}")
    expect(row).to_contain_text("Changed transformation People to contacts")
    expect(row).to_contain_text("mapping")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Restore the earlier version").click()
    expect(page.get_by_role("status")).to_contain_text("Restored the earlier version")
    transformation.refresh_from_db()
    assert transformation.mapping == FIRST
    assert transformation.version == 3
    restore = AuditEntry.objects.filter(component_kind="transformation").first()
    assert restore.pk != entry.pk and restore.after["mapping"] == FIRST


def test_changes_name_the_components_not_their_ids(page, login, project, mapped):
    """An operation's chain (its steps) reads by the names of what it uses, before and after."""
    operation = mapped["operation"]
    other = ActivityFactory(
        connection=mapped["source"].connection,
        activity_type="inline",
        name="More people",
        config={"data": INLINE_CSV},
    )
    step_remove(step=operation.steps.get(kind="source"), user=None)
    step_insert(operation=operation, user=None, kind="source", position=0, activity=other)
    login(page, "viewer")
    page.goto(f"/projects/{project.pk}/history/")
    changes = page.locator("tr", has_text="Changed operation Import")
    expect(changes).to_have_count(2)
    added, removed = (  # newest first; each row's "steps" change
        changes.nth(n).locator("div").filter(has_text="steps:") for n in (0, 1)
    )
    expect(removed.locator("del")).to_have_text("People ▸ People to contacts ▸ Create")
    expect(removed.locator("ins")).to_have_text("People to contacts ▸ Create")
    expect(added.locator("ins")).to_have_text("More people ▸ People to contacts ▸ Create")
    expect(page.locator("table")).not_to_contain_text("activity_id")
    assert Operation.objects.get(pk=operation.pk).source_id == other.pk
    assert Transformation.objects.count() == 1
