"""The mapping editor in a real browser: drag, click-to-map, auto-map, preview, validation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from designer.design.models import Transformation
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)

INLINE_CSV = (
    "Email,First Name,Surname,Phone\nann@example.com,Ann,Lee,555-0100\nnot-an-email,Bob,,\n"
)


@pytest.fixture
def editor_url(project, personas, settings, tmp_path):
    settings.FILES_ROOT = tmp_path / "files"
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    source = ActivityFactory(
        connection=files, activity_type="inline", name="People", config={"data": INLINE_CSV}
    )
    cc = ConnectionFactory(project=project, connector_key="constant_contact", name="CC")
    target = ActivityFactory(
        connection=cc, activity_type="create", name="Create", config={"mode": "single"}
    )
    transformation = TransformationFactory(project=project, name="People to contacts")
    OperationFactory(
        project=project, name="Import", source=source, transformation=transformation, target=target
    )
    return f"/projects/{project.pk}/transformations/{transformation.pk}/"


def target_row(page, path):
    return page.locator(f'.target-field[data-path="{path}"]')


def source_field(page, path):
    return page.locator(f'.source-field[data-path="{path}"]')


def test_drag_a_source_field_onto_a_target_and_save(page, login, editor_url):
    login(page, "editor")
    page.goto(editor_url)
    expect(target_row(page, "email_address.address")).to_have_class(
        "target-field unmapped-required"
    )
    source_field(page, "Email").drag_to(
        target_row(page, "email_address.address").locator(".target-label")
    )
    expect(page.get_by_label("Mapping of email_address.address")).to_have_value("Email")
    expect(page.get_by_label("How email_address.address is mapped")).to_have_value("path")
    expect(target_row(page, "email_address.address")).not_to_have_class(
        "target-field unmapped-required"
    )
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".mapping-status")).to_have_text("Saved (version 2).")
    assert Transformation.objects.get().mapping == [
        {"target": "email_address.address", "kind": "path", "value": "Email"}
    ]


def test_click_a_source_then_a_target_and_type_an_expression(page, login, editor_url):
    login(page, "editor")
    page.goto(editor_url)
    source_field(page, "Email").click()
    target_row(page, "email_address.address").locator(".target-label").click()
    expect(page.get_by_label("Mapping of email_address.address")).to_have_value("Email")
    page.get_by_label("How first_name is mapped").select_option("expression")
    page.get_by_label("Mapping of first_name").fill("record['First Name'] | upper")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator(".preview-row")).to_have_count(2)
    expect(preview.locator(".preview-row").first).to_contain_text('"first_name": "ANN"')


def test_auto_map_then_preview_shows_input_output_and_errors(page, login, editor_url):
    login(page, "editor")
    page.goto(editor_url)
    page.get_by_role("button", name="Auto-map").click()
    expect(page.locator(".mapping-status")).to_contain_text("Auto-map added")
    expect(page.get_by_label("Mapping of email_address.address")).to_have_value("Email")
    expect(page.get_by_label("Mapping of first_name")).to_have_value("First Name")
    expect(page.get_by_label("Mapping of last_name")).to_have_value("Surname")
    expect(page.get_by_label("Mapping of phone_numbers.0.phone_number")).to_have_value("Phone")
    # A broken expression fails its records in the preview, with the field named.
    page.get_by_label("How job_title is mapped").select_option("expression")
    page.get_by_label("Mapping of job_title").fill("Surname | to_int")
    page.get_by_role("button", name="Preview").click()
    rows = page.get_by_role("region", name="Preview").locator(".preview-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("job_title: ValueError")
    expect(rows.first).to_contain_text('"Email": "ann@example.com"')
    expect(rows.nth(1)).to_contain_text('"first_name": "Bob"')  # empty Surname: no error
    expect(rows.nth(1)).not_to_contain_text("ValueError")


def test_a_validation_error_names_the_field_and_nothing_is_saved(page, login, editor_url):
    login(page, "editor")
    page.goto(editor_url)
    page.get_by_label("How first_name is mapped").select_option("path")
    page.get_by_label("Mapping of first_name").fill("Nickname")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".mapping-status")).to_have_text("Not saved: fix the fields marked below.")
    problems = page.get_by_role("list", name="Mapping problems")
    expect(problems).to_contain_text("“first_name”: the source has no field “Nickname”.")
    expect(problems).to_contain_text("Required field “email_address.address” is not mapped.")
    expect(target_row(page, "first_name").locator(".rule")).to_have_class(
        "rule mapped rule-invalid"
    )
    assert Transformation.objects.get().mapping == []


def test_a_custom_field_target_can_be_added_by_path(page, login, editor_url):
    login(page, "editor")
    page.goto(editor_url)
    page.get_by_label("Add a target field by name or path").fill(
        "custom_fields[custom_field_id=cf-1].value"
    )
    page.get_by_role("button", name="Add", exact=True).click()
    path = "custom_fields[custom_field_id=cf-1].value"
    source_field(page, "Phone").drag_to(target_row(page, path).locator(".target-label"))
    source_field(page, "Email").drag_to(
        target_row(page, "email_address.address").locator(".target-label")
    )
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".mapping-status")).to_have_text("Saved (version 2).")
    assert {
        "target": path,
        "kind": "path",
        "value": "Phone",
    } in Transformation.objects.get().mapping


def test_a_viewer_sees_the_mapping_read_only(page, login, editor_url):
    login(page, "viewer")
    page.goto(editor_url)
    expect(page.get_by_role("tree", name="Source schema")).to_be_visible()
    expect(page.get_by_label("How first_name is mapped")).to_be_disabled()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    # Issue 16.5: read only, and says why.
    expect(page.locator("#read-only-reason")).to_have_text(
        "Read only: your role (Viewer) can't change mappings."
    )


def test_map_with_the_keyboard(page, login, editor_url):
    login(page, "editor")
    page.goto(editor_url)
    source_field(page, "Surname").focus()
    page.keyboard.press("Enter")
    expect(source_field(page, "Surname")).to_have_class("source-field selected")
    target_row(page, "last_name").locator(".target-label").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Mapping of last_name")).to_have_value("Surname")
    expect(source_field(page, "Surname")).to_have_class("source-field")
