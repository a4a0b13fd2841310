"""A step's configuration panel (the side dialog) and its Test/Preview.

The panel shows what the step is, its settings (a Script's text, a Condition's expression,
an Invoke operation's operation, a target's pass-on) and a Test/Preview button: on a source,
its first records read with read-only calls; on a transformation, script or condition, those
records in and out. Previews run in the apps that run steps (``integrations.step_preview``).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from designer.design import integrations, step_services
from designer.design.models import StepKind
from designer.design.operations import PlacementRefused
from designer.design.step_forms import step_form
from designer.design.versioning import StaleVersion
from designer.design.views.common import base_context
from designer.design.views.steps import _changed, _item, _step
from designer.projects.access import Capability, ProjectAccess, project_view

PREVIEWABLE = {
    StepKind.SOURCE,
    StepKind.TRANSFORMATION,
    StepKind.SCRIPT,
    StepKind.CONDITION,
}


def _panel(
    request: HttpRequest, access: ProjectAccess, step: Any, form: Any, status: int = 200, **extra
) -> HttpResponse:
    item = _item(step)
    links = {}
    if step.transformation_id:
        links["mapping"] = integrations.transformation_url(
            access.project.pk, step.transformation_id
        )
    return render(
        request,
        "design/tool_panel.html",
        base_context(
            request,
            access,
            step=step,
            item=item,
            operation=step.operation,
            form=form,
            links=links,
            previewable=step.kind in PREVIEWABLE,
            **extra,
        ),
        status=status,
    )


@project_view(Capability.VIEW)
@require_GET
def step_detail(request: HttpRequest, access: ProjectAccess, step_id: int) -> HttpResponse:
    """The panel (read only below Editor)."""
    step = _step(access, step_id)
    return _panel(request, access, step, step_form(step))


@project_view(Capability.DESIGN)
@require_POST
def step_save(request: HttpRequest, access: ProjectAccess, step_id: int) -> HttpResponse:
    """Save the step's settings; a refusal re-renders the panel with the reason."""
    step = _step(access, step_id)
    form = step_form(step, request.POST)
    if form is None:
        return _panel(request, access, step, None)
    if form.is_valid():
        try:
            step_services.step_configure(
                project=access.project,
                step=step,
                user=request.user,
                config=form.config(),
                expected_version=form.cleaned_data.get("version"),
            )
        except (PlacementRefused, StaleVersion, ValueError) as exc:
            form.add_error(None, getattr(exc, "message", str(exc)))
        else:
            step.refresh_from_db()
            item = _item(step)
            number = f" {item.number}" if item else ""
            name = item.label if item else step.get_kind_display()
            message = f"Saved step{number} “{name}” of “{step.operation.name}”."
            return _changed(request, access, step.operation, message, close_dialog=True)
    return _panel(request, access, step, form, status=422)


@project_view(Capability.DESIGN)
@require_POST
def step_preview(request: HttpRequest, access: ProjectAccess, step_id: int) -> HttpResponse:
    """Test/Preview: what the step reads (a source) or does to the records (a tool)."""
    step = _step(access, step_id)
    if step.kind not in PREVIEWABLE:
        result = None
        error = "This step has no preview: run the operation to see what it does."
    else:
        result = integrations.step_preview(step, user=request.user)
        error = "" if result is not None else "Preview is not available here."
        if result is not None and getattr(result, "error", ""):
            error = result.error
    return render(
        request,
        "design/tool_panel.html#preview",
        base_context(
            request, access, step=step, preview=_shown(result) if result else None, error=error
        ),
    )


def _json(record: Any) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False, default=str, sort_keys=True)


def _shown(result: Any) -> dict[str, Any]:
    """Rows of the preview table: each record in, what came out (or why nothing did).

    A preview gives ``records_in`` and ``records_out``, and for tools that don't map one
    record to one (a condition's branches, a script's filter) ``pairs``: (in, out or None,
    note such as "False branch" or "dropped")."""
    records_in = list(getattr(result, "records_in", []) or [])
    records_out = list(getattr(result, "records_out", []) or [])
    pairs = getattr(result, "pairs", None)
    if pairs is None:
        if not records_in:  # a source: what it read
            pairs = [(None, out, "") for out in records_out]
        else:
            pairs = [
                (rec, records_out[i] if i < len(records_out) else None, "")
                for i, rec in enumerate(records_in)
            ]
    rows = [
        {
            "in_json": _json(rec) if rec is not None else "",
            "out_json": _json(out) if out is not None else "",
            "out_note": note,
        }
        for rec, out, note in pairs
    ]
    return {
        "records_in": records_in,
        "records_out": records_out,
        "rows": rows,
        "note": getattr(result, "note", ""),
    }
