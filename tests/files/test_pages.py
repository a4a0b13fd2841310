"""The Files app's pages are reached from the mapping editor through design.integrations,
not through a connector key written into the editor."""

from __future__ import annotations


def test_the_mapping_editor_links_a_files_source_to_its_files(client_for, operation):
    files = operation.source.connection
    page = client_for("viewer").get(
        f"/projects/{operation.project_id}/transformations/{operation.transformation_id}/"
    )
    html = page.content.decode()
    assert f'<a href="/projects/{operation.project_id}/files/{files.pk}/">Manage files</a>' in html
    assert html.count("Manage files") == 1  # the Constant Contact target has no such page
