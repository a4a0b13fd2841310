"""A Files connection in the browser: upload a CSV, see it listed, map from its header."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)


@pytest.fixture
def files_setup(project, personas, settings, tmp_path):
    settings.FILES_ROOT = tmp_path / "files"
    files = ConnectionFactory(project=project, connector_key="files", name="Drop folder")
    source = ActivityFactory(
        connection=files, activity_type="read", name="Signups", config={"file_name": "signups.csv"}
    )
    cc = ConnectionFactory(project=project, connector_key="constant_contact", name="CC")
    target = ActivityFactory(
        connection=cc, activity_type="create", name="Create", config={"mode": "single"}
    )
    transformation = TransformationFactory(project=project, name="Signups to contacts")
    OperationFactory(
        project=project, name="Signups", source=source, transformation=transformation, target=target
    )
    return project, files, transformation


def test_upload_a_csv_then_map_from_its_inferred_header(page, login, files_setup, tmp_path):
    project, _files, transformation = files_setup
    local = tmp_path / "signups.csv"
    local.write_text("E-mail,Given name,Zip\nann@example.com,Ann,02139\n")
    login(page, "editor")
    page.goto(f"/projects/{project.pk}/transformations/{transformation.pk}/")
    expect(page.get_by_text("The schema could not be inferred: No file matches")).to_be_visible()

    page.get_by_role("link", name="Manage files").click()
    page.get_by_label("File", exact=True).set_input_files(str(local))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("Uploaded signups.csv")
    expect(page.get_by_role("link", name="signups.csv")).to_be_visible()

    page.goto(f"/projects/{project.pk}/transformations/{transformation.pk}/")
    tree = page.get_by_role("tree", name="Source schema")
    expect(tree.get_by_role("treeitem")).to_have_text(
        ["E-mail string", "Given name string", "Zip string"]
    )
    page.get_by_role("button", name="Auto-map").click()
    expect(page.get_by_label("Mapping of email_address.address")).to_have_value("E-mail")
    expect(page.get_by_label("Mapping of first_name")).to_have_value("Given name")
    expect(page.get_by_label("Mapping of street_addresses.0.postal_code")).to_have_value("Zip")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview")).to_contain_text('"postal_code": "02139"')


def test_an_upload_over_the_limit_is_refused(page, login, files_setup, tmp_path, settings):
    project, files, _ = files_setup
    settings.FILES_MAX_UPLOAD_BYTES = 100
    local = tmp_path / "big.csv"
    local.write_text("email\n" + "someone@example.com\n" * 20)
    login(page, "editor")
    page.goto(f"/projects/{project.pk}/files/{files.pk}/")
    page.get_by_label("File", exact=True).set_input_files(str(local))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("The file is too large")
    expect(page.get_by_text("No files yet.")).to_be_visible()
