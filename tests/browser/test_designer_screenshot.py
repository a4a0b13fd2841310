"""The README's designer scene: a workflow of chained multi-step operations on the board.

``make screenshot`` runs this test with ``DESIGNER_SCREENSHOT=docs/designer.png`` and writes the
README's picture of that scene; in the suite it checks the scene: each operation's steps in
their order, and the chain arrows drawn between the operations.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from designer.design import operations
from designer.design.models import (
    Activity,
    Connection,
    ConnectionStatus,
    Operation,
    StepKind,
    Transformation,
    Workflow,
)
from tests.design.browser_helpers import card, open_designer


def build_project(project, user) -> dict[str, Operation]:
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

    workflow = Workflow.objects.get_or_create(project=project, name="Workflow 1")[0]
    workflow.name = "Partner sync"
    workflow.save()
    Workflow.objects.create(project=project, name="Nightly clean-up", order=1)

    def op(name, x, y, chain):
        operation = Operation.objects.create(
            project=project, workflow=workflow, name=name, position_x=x, position_y=y
        )
        for kind, thing in chain:
            extra = {"activity": thing} if isinstance(thing, Activity) else {}
            if isinstance(thing, str):
                extra = {
                    "transformation": Transformation.objects.create(project=project, name=thing)
                }
            operations.step_insert(operation=operation, user=user, kind=kind, **extra)
        return operation

    made = {
        "import": op(
            "Import partner contacts",
            40,
            40,
            [
                (StepKind.SOURCE, activity(files, "read", "Read partner CSV")),
                (StepKind.TRANSFORMATION, "Partner to contact"),
                (StepKind.TARGET, activity(cc, "create", "Create contacts")),
                (StepKind.TRANSFORMATION, "Ids back to partner"),
                (StepKind.TARGET, activity(files, "write", "Write partner ids CSV")),
            ],
        ),
        "export": op(
            "Export contacts",
            40,
            330,
            [
                (StepKind.SOURCE, activity(cc, "query", "Contacts updated today")),
                (StepKind.TRANSFORMATION, "Contacts export"),
                (StepKind.TARGET, activity(files, "write", "Write contacts CSV")),
            ],
        ),
        "report": op(
            "Report failures",
            780,
            330,
            [
                (StepKind.SOURCE, activity(files, "read", "Read failed rows")),
                (StepKind.TARGET, activity(cc, "update", "Flag contacts")),
            ],
        ),
    }
    made["import"].on_success = made["export"]
    made["import"].on_fail = made["report"]
    made["import"].save()
    return made


def test_readme_scene_shows_chained_multi_step_operations(page, login, personas, project):
    made = build_project(project, personas["editor"])
    page.set_viewport_size({"width": 1600, "height": 900})
    open_designer(page, login, project)
    expect(page.get_by_role("tab", name="Partner sync")).to_have_attribute("aria-selected", "true")
    steps = {
        "Import partner contacts": [
            "Read partner CSV",
            "Partner to contact",
            "Create contacts",
            "Ids back to partner",
            "Write partner ids CSV",
        ],
        "Export contacts": ["Contacts updated today", "Contacts export", "Write contacts CSV"],
        "Report failures": ["Read failed rows", "Flag contacts"],
    }
    for name, names in steps.items():
        shown = card(page, name).locator("li.step .step-name")
        expect(shown).to_have_count(len(names))
        for index, text in enumerate(names):
            expect(shown.nth(index)).to_contain_text(text)
    # The chain arrows: On Success to the export, On Fail to the report, both drawn.
    for target, kind in (("export", "success"), ("report", "fail")):
        arrow = page.locator(
            f'g.chain-{kind}[data-from="{made["import"].pk}"][data-to="{made[target].pk}"]'
        )
        expect(arrow).to_have_count(1)
        expect(arrow.locator("path.chain-line")).to_have_attribute("d", _starts_with_move())
    target = os.environ.get("DESIGNER_SCREENSHOT")
    if target:  # make screenshot
        page.get_by_role("button", name="Fit to screen").click()
        page.get_by_label("Search endpoints and connectors").focus()
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=target)


def _starts_with_move() -> re.Pattern:
    """An arrow's path once drawn (canvas.js sets it from the ports' places)."""
    return re.compile(r"^M-?\d")
