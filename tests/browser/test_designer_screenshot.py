"""The README's designer scene: operations drawn with their parts, in their order.

``make screenshot`` runs this test with ``DESIGNER_SCREENSHOT=docs/designer.png`` and writes the
README's picture of that scene; in the suite it only checks the scene.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from designer.design.models import Activity, Connection, ConnectionStatus, Operation, Transformation
from tests.design.browser_helpers import card, open_designer


def build_project(project) -> None:
    cc = Connection.objects.create(
        project=project,
        connector_key="constant_contact",
        name="Constant Contact",
        config={"client_id": "my-app", "auth_method": "oauth"},
        status=ConnectionStatus.CONNECTED,
        status_message="Connected to Acme Inc.",
    )
    files = Connection.objects.create(
        project=project, connector_key="files", name="Partner files", config={}
    )

    def activity(connection, kind, name):
        return Activity.objects.create(
            project=project, connection=connection, activity_type=kind, name=name
        )

    query = activity(cc, "query", "Contacts updated today")
    create = activity(cc, "create", "Create contacts")
    update = activity(cc, "update", "Update contacts")
    read = activity(files, "read", "Read partner CSV")
    write = activity(files, "write", "Write contacts CSV")
    mapping = Transformation.objects.create(project=project, name="Partner to contact")
    export = Transformation.objects.create(project=project, name="Contacts export")
    Operation.objects.create(
        project=project,
        name="Import partner contacts",
        source=read,
        transformation=mapping,
        target=create,
        position_y=0,
    )
    Operation.objects.create(
        project=project,
        name="Export contacts",
        source=query,
        transformation=export,
        target=write,
        position_y=1,
    )
    Operation.objects.create(project=project, name="Fix addresses", target=update, position_y=2)


def test_readme_scene_shows_each_operation_with_its_parts_in_order(page, login, personas, project):
    build_project(project)
    open_designer(page, login, project)
    canvas = page.get_by_role("region", name="Design canvas")
    articles = canvas.get_by_role("article")
    expect(articles).to_have_count(3)
    for index, name in enumerate(["Import partner contacts", "Export contacts", "Fix addresses"]):
        expect(articles.nth(index)).to_have_accessible_name(f"Operation {name}")
    parts = {
        "Import partner contacts": [
            "Read partner CSV",
            "Source · Partner files",
            "Partner to contact",
            "Create contacts",
            "Target · Constant Contact",
        ],
        "Export contacts": [
            "Contacts updated today",
            "Source · Constant Contact",
            "Contacts export",
            "Write contacts CSV",
            "Target · Partner files",
        ],
        # The unfinished operation invites the parts it lacks.
        "Fix addresses": ["Drop a source activity here", "Add transformation", "Update contacts"],
    }
    for name, texts in parts.items():
        for text in texts:
            expect(card(page, name)).to_contain_text(text)
    target = os.environ.get("DESIGNER_SCREENSHOT")
    if target:  # make screenshot
        page.get_by_label("Search endpoints and connectors").focus()
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=target)
