"""Pickers in a real browser (issue 14): the list field of "Add contacts to lists" offers the
sandbox account's lists once focused, and Refresh brings a list created meanwhile (the page
fixture runs axe on each page state)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.design.browser_helpers import dialog, open_designer
from tests.fixtures.sandbox import CC_CLIENT_ID, cc_connection


def test_the_lists_picker_offers_the_accounts_lists(page, login, personas, project, cc_allowed):
    from django.core.cache import cache

    cache.clear()
    cc_connection(project, cc_allowed, cc_allowed.issue_tokens(CC_CLIENT_ID), name="Account")
    open_designer(page, login, project)
    page.get_by_role("button", name="New Add contacts to lists activity of Account").click()
    panel = dialog(page)
    # htmx wires the new form (the picker's "focus once" trigger) when the swap settles: a focus
    # before that would go unheard.
    expect(page.locator("#dialog-body.htmx-settling, #dialog-body .htmx-added")).to_have_count(0)
    field = panel.get_by_label("Lists")
    page.wait_for_function(
        "el => !!(el['htmx-internal-data'] && el['htmx-internal-data'].initHash)",
        arg=field.element_handle(),
    )
    field.focus()
    options = panel.locator("#id_list_ids-options option")
    expect(options).to_have_count(4, timeout=15_000)
    expect(panel.locator("#id_list_ids-options option[label='Customers']")).to_have_attribute(
        "value", cc_allowed.list_id("Customers")
    )
    cc_allowed.service.catalog.add_list("Spring sale")
    panel.get_by_role("button", name="Refresh lists").click()
    expect(options).to_have_count(5, timeout=15_000)
    field.fill(cc_allowed.list_id("Customers"))  # a typed id stays as typed
    expect(field).to_have_value(cc_allowed.list_id("Customers"))


def test_the_mapping_editor_maps_a_source_field_to_a_custom_field_picked_by_name(
    page, login, personas, project, cc_allowed, settings, tmp_path
):
    from django.core.cache import cache

    from designer.design.models import Transformation
    from tests.factories import (
        ActivityFactory,
        ConnectionFactory,
        OperationFactory,
        TransformationFactory,
    )

    cache.clear()
    settings.FILES_ROOT = tmp_path / "files"
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    source = ActivityFactory(
        connection=files,
        activity_type="inline",
        name="People",
        config={"data": "Email,Colour\nann@example.com,teal\n"},
    )
    cc = cc_connection(project, cc_allowed, cc_allowed.issue_tokens(CC_CLIENT_ID), name="CC")
    target = ActivityFactory(
        connection=cc,
        activity_type="create",
        name="Create",
        config={"mode": "single", "record_shape": "flat"},
    )
    transformation = TransformationFactory(project=project, name="People to contacts")
    OperationFactory(
        project=project, name="Import", source=source, transformation=transformation, target=target
    )
    login(page, "editor")
    page.goto(f"/projects/{project.pk}/transformations/{transformation.pk}/")
    picker = page.get_by_label("Custom fields from the account")
    page.wait_for_function(
        "el => !!(el['htmx-internal-data'] && el['htmx-internal-data'].initHash)",
        arg=picker.element_handle(),
    )
    picker.focus()
    options = page.locator("#target-pick-1-options option")
    expect(options).to_have_count(2, timeout=15_000)  # Favorite Color, Member Since
    expect(
        page.locator("#target-pick-1-options option[label='Favorite Color (Favorite_Color)']")
    ).to_have_attribute("value", "Favorite_Color")

    cc_allowed.service.catalog.add_custom_field("Shoe size")
    page.get_by_role("button", name="Refresh custom fields").click()
    expect(options).to_have_count(3, timeout=15_000)

    # Pick the source field, then the custom field by name: mapped at once.
    page.locator('.source-field[data-path="Colour"]').click()
    picker.fill("Favorite_Color")
    page.get_by_role("button", name="Add custom field").click()
    expect(page.get_by_label("Mapping of custom_field:Favorite_Color")).to_have_value("Colour")
    # A typed label works too (resolved by name or label at run time).
    picker.fill("Shoe size")
    picker.press("Enter")
    expect(page.get_by_label("Mapping of custom_field:Shoe size")).to_be_focused()
    page.keyboard.type("Email")
    page.get_by_label("Mapping of email", exact=True).fill("Email")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".mapping-status")).to_contain_text("Saved")
    assert Transformation.objects.get(pk=transformation.pk).mapping == [
        {"target": "email", "kind": "path", "value": "Email"},
        {"target": "custom_field:Favorite_Color", "kind": "path", "value": "Colour"},
        {"target": "custom_field:Shoe size", "kind": "path", "value": "Email"},
    ]


def test_the_wizards_test_names_an_unknown_list(page, login, personas, project, cc_allowed):
    from django.core.cache import cache

    from designer.design.models import Activity

    cache.clear()
    cc_connection(project, cc_allowed, cc_allowed.issue_tokens(CC_CLIENT_ID), name="Account")
    open_designer(page, login, project)
    page.get_by_role("button", name="New Add contacts to lists activity of Account").click()
    panel = dialog(page)
    missing = "0b0b0b0b-1409-443b-9a2b-eef234d6ec4a"
    panel.get_by_label("Lists").fill(f"{cc_allowed.list_id('Events')}, {missing}, [my_lists]")
    panel.get_by_role("button", name="Test", exact=True).click()
    summary = panel.locator(".error-summary")
    expect(summary).to_contain_text("Test failed.")
    expect(summary).to_contain_text(f"List id '{missing}' does not exist in this account")
    expect(panel.locator("#activity-test-result")).to_contain_text(
        "[my_lists] can't be checked before the run"
    )
    panel.get_by_label("Lists").fill(cc_allowed.list_id("Events"))
    panel.get_by_role("button", name="Test", exact=True).click()
    expect(panel.locator("#activity-test-result")).to_contain_text(
        "Test passed: Lists: 1 found in the account."
    )
    assert not Activity.objects.exists()  # a Test saves nothing
