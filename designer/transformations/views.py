"""The mapping editor: the page, and JSON endpoints for save, auto-map and preview."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from designer.design import integrations, pickers
from designer.design.models import Transformation
from designer.projects.access import Capability, ProjectAccess, project_view
from designer.transformations import services
from designer.transformations.selectors import editor_data, rules_of
from designer.transformations.validation import validate_mapping

MAX_BODY = 1 << 20


def _transformation(access: ProjectAccess, transformation_id: int) -> Transformation:
    return get_object_or_404(
        Transformation.objects.select_related("updated_by"),
        pk=transformation_id,
        project=access.project,
    )


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise ValueError("The mapping is too large.")
    try:
        data = json.loads(request.body or b"{}")
    except json.JSONDecodeError:
        raise ValueError("The request is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ValueError("The request must be a JSON object.")
    return data


def _bad(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "message": message, "problems": []}, status=status)


@project_view(Capability.VIEW)
@require_GET
def edit(request: HttpRequest, access: ProjectAccess, transformation_id: int) -> HttpResponse:
    transformation = _transformation(access, transformation_id)
    data = editor_data(transformation)
    rules = rules_of(transformation)
    problems = validate_mapping(
        rules, source_schema=data.source.schema, target_schema=data.target.schema
    )
    shown = [_for_display(rule) for rule in rules]
    by_target = {rule["target"]: rule for rule in shown}
    paths = {f.path for f in data.target.fields}
    return render(
        request,
        "transformations/editor.html",
        {
            "access": access,
            "project": access.project,
            "transformation": transformation,
            "data": data,
            "target_rows": [(f, by_target.get(f.path)) for f in data.target.fields],
            "extra_rules": [rule for rule in shown if rule["target"] not in paths],
            "problems": [p.as_dict() for p in problems],
            # A connector's own page (a Files connection's files), whatever the connector.
            "source_page": _page_of(data.source.activity),
            "target_page": _page_of(data.target.activity),
            # Target fields picked from the account, e.g. custom fields by name (issue 14).
            "target_pickers": (
                pickers.target_pickers(access.project.pk, data.target.activity)
                if access.can_design
                else []
            ),
        },
    )


def _page_of(activity: Any) -> tuple[str, str] | None:
    return integrations.connection_page(activity.connection) if activity is not None else None


def _for_display(rule: dict[str, Any]) -> dict[str, Any]:
    value = rule.get("value")
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value)
    return {
        "target": str(rule.get("target") or ""),
        "kind": rule.get("kind", "path"),
        "display_value": text,
    }


@project_view(Capability.DESIGN)
@require_POST
def save(request: HttpRequest, access: ProjectAccess, transformation_id: int) -> JsonResponse:
    transformation = _transformation(access, transformation_id)
    try:
        body = _body(request)
        version = int(body.get("version"))
    except (ValueError, TypeError) as exc:
        return _bad(str(exc) if isinstance(exc, ValueError) else "The version is missing.")
    data = editor_data(transformation)
    try:
        new_version, warnings = services.transformation_save_mapping(
            transformation=transformation,
            rules=body.get("rules"),
            version=version,
            data=data,
            user=request.user,
        )
    except services.MappingInvalid as exc:
        return JsonResponse(
            {
                "ok": False,
                "message": "Not saved: fix the fields marked below.",
                "problems": [p.as_dict() for p in exc.problems],
            },
            status=422,
        )
    except services.StaleMapping as exc:
        return _bad(str(exc), status=409)
    return JsonResponse(
        {
            "ok": True,
            "message": f"Saved (version {new_version}).",
            "version": new_version,
            "problems": [p.as_dict() for p in warnings],
        }
    )


@project_view(Capability.DESIGN)
@require_POST
def automap(request: HttpRequest, access: ProjectAccess, transformation_id: int) -> JsonResponse:
    transformation = _transformation(access, transformation_id)
    try:
        body = _body(request)
        rules, added = services.transformation_auto_map(
            rules=body.get("rules") or [], data=editor_data(transformation)
        )
    except ValueError as exc:
        return _bad(str(exc))
    except services.MappingInvalid as exc:
        return _bad(str(exc))
    message = (
        f"Auto-map added {len(added)} field(s); review and save."
        if added
        else "Auto-map found no more fields with matching names."
    )
    return JsonResponse({"ok": True, "rules": rules, "added": added, "message": message})


@project_view(Capability.DESIGN)
@require_POST
def preview(request: HttpRequest, access: ProjectAccess, transformation_id: int) -> HttpResponse:
    transformation = _transformation(access, transformation_id)
    data = editor_data(transformation)
    try:
        body = _body(request)
        result = services.transformation_preview(rules=body.get("rules") or [], data=data)
    except (ValueError, services.MappingInvalid) as exc:
        return render(
            request, "transformations/editor.html#preview", {"preview": None, "error": str(exc)}
        )
    return render(
        request,
        "transformations/editor.html#preview",
        {
            "preview": result,
            "error": result.error,
            # Custom fields named by the mapping, looked up in the account (issue 14).
            "target_problems": pickers.test_targets(data.target.activity, body.get("rules")),
        },
    )
