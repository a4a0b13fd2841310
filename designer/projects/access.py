"""The one place that decides who may do what in a project.

Every project view goes through ``project_view`` (or ``get_project_access``): a user who is not
a member gets 404, as if the project did not exist; a member without the right gets 403.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from designer.acting import acting_as
from designer.projects.models import Membership, Project, Role


class Capability(enum.StrEnum):
    VIEW = "view"  # see the project, its design and its logs
    RUN = "run"  # run and cancel operations
    DESIGN = "design"  # change endpoints, activities, operations, transformations
    MANAGE = "manage"  # rename, delete, members


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.EDITOR: frozenset({Capability.VIEW, Capability.RUN, Capability.DESIGN}),
    Role.OPERATOR: frozenset({Capability.VIEW, Capability.RUN}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}


@dataclass(frozen=True)
class ProjectAccess:
    project: Project
    role: str

    def can(self, capability: Capability | str) -> bool:
        return Capability(capability) in ROLE_CAPABILITIES[self.role]

    @property
    def can_design(self) -> bool:
        return self.can(Capability.DESIGN)

    @property
    def can_run(self) -> bool:
        return self.can(Capability.RUN)

    @property
    def can_manage(self) -> bool:
        return self.can(Capability.MANAGE)


def get_project_access(user: Any, project_id: int, need: Capability) -> ProjectAccess:
    if not user.is_authenticated:
        raise Http404("No such project")
    membership = (
        Membership.objects.select_related("project")
        .filter(project_id=project_id, user_id=user.pk)
        .first()
    )
    if membership is None:
        raise Http404("No such project")
    access = ProjectAccess(project=membership.project, role=membership.role)
    if not access.can(need):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) can't {need} here.")
    return access


ProjectView = Callable[..., HttpResponse]


def project_view(need: Capability) -> Callable[[ProjectView], ProjectView]:
    """Decorate a view taking ``project_id``: it receives ``access`` instead."""

    def decorator(view: ProjectView) -> ProjectView:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, project_id: int, *args: Any, **kwargs: Any):
            access = get_project_access(request.user, project_id, need)
            # Audit entries written by signal handlers during the view name this user.
            with acting_as(request.user):
                return view(request, access, *args, **kwargs)

        # Read by the access tests, which check every project URL against its declared need.
        wrapper.required_capability = need  # type: ignore[attr-defined]
        return wrapper

    return decorator
