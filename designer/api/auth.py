"""Token authentication and the API's one door to a project.

Every API view reaches a project through ``api_project``, which calls the pages' own access
helper (``get_project_access``): outsiders get 404, a role lacking the capability 403,
exactly as on the pages. Scopes are checked first, before anything about the project is
looked up.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja.security import HttpBearer

from designer.api.models import ApiToken, Scope
from designer.api.problems import ApiProblem
from designer.api.tokens import token_audit, token_authenticate, token_mark_used
from designer.projects.access import Capability, ProjectAccess, get_project_access


class TokenAuth(HttpBearer):
    """``Authorization: Bearer idt_...`` with the given scope."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = token_authenticate(token)
        if not found.has_scope(self.scope):
            token_audit(
                token=found, project=None, what=f"{_what(request)} refused: no {self.scope} scope"
            )
            raise ApiProblem(403, f"This API token lacks the “{self.scope}” scope.")
        token_mark_used(token=found)
        # Code shared with the pages reads request.user.
        request.user = found.user
        return found


read = TokenAuth(Scope.READ)
run = TokenAuth(Scope.RUN)


def _what(request: HttpRequest) -> str:
    return f"{request.method} {request.path}"


def api_project(request: HttpRequest, project_id: int, need: Capability) -> ProjectAccess:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    try:
        access = get_project_access(token.user, project_id, need)
    except (Http404, PermissionDenied) as exc:
        # Refused calls are recorded too (without the project: an outsider learns nothing).
        status = 404 if isinstance(exc, Http404) else 403
        token_audit(token=token, project=None, what=f"{_what(request)} refused ({status})")
        raise
    token_audit(token=token, project=access.project, what=_what(request))
    return access


def api_audit_unscoped(request: HttpRequest) -> Any:
    """For calls not about one project (the list of projects)."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    token_audit(token=token, project=None, what=_what(request))
    return token.user
