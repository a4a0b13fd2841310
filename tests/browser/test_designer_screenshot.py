"""A screenshot of the designer with a few components, for the README.

Runs with the suite (into a temporary file, checking it is a PNG); with
``DESIGNER_SCREENSHOT=docs/designer.png`` it writes there instead:

    DESIGNER_SCREENSHOT=docs/designer.png .venv/bin/pytest tests/browser/test_designer_screenshot.py
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


def test_designer_screenshot(page, login, personas, project, tmp_path):
    build_project(project)
    open_designer(page, login, project)
    expect(card(page, "Import partner contacts")).to_be_visible()
    page.get_by_label("Search endpoints and connectors").focus()
    target = Path(os.environ.get("DESIGNER_SCREENSHOT") or tmp_path / "designer.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
