"""Who may use the management console, and on which projects.

Staff users see the whole installation; a project Admin sees the projects they administer.
Everyone else gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from designer.projects.models import Membership, Project, Role


@dataclass(frozen=True)
class ConsoleScope:
    user: Any
    # None: every project (staff); otherwise the ids of the projects the user administers.
    project_ids: frozenset[int] | None

    @property
    def is_staff(self) -> bool:
        return self.project_ids is None

    def projects(self) -> QuerySet[Project]:
        if self.project_ids is None:
            return Project.objects.all()
        return Project.objects.filter(pk__in=self.project_ids)

    def covers(self, project_id: int | None) -> bool:
        if self.project_ids is None:
            return True
        return project_id is not None and project_id in self.project_ids

    def require(self, project_id: int | None) -> None:
        """404 for a project outside the scope, as if it did not exist."""
        if not self.covers(project_id):
            raise Http404("No such project")

    def id_list(self) -> list[int] | None:
        return None if self.project_ids is None else sorted(self.project_ids)


def admin_project_ids(user: Any) -> frozenset[int]:
    return frozenset(
        Membership.objects.filter(user_id=user.pk, role=Role.ADMIN).values_list(
            "project_id", flat=True
        )
    )


def can_use_console(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(user_id=user.pk, role=Role.ADMIN).exists()


def console_scope(user: Any) -> ConsoleScope:
    if user.is_staff:
        return ConsoleScope(user=user, project_ids=None)
    ids = admin_project_ids(user)
    if not ids:
        raise PermissionDenied("The console is for staff and project Admins.")
    return ConsoleScope(user=user, project_ids=ids)


def console_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view receives ``scope`` after the request; outermost, so refusals come first."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, console_scope(request.user), *args, **kwargs)

    wrapper.console_view = True  # type: ignore[attr-defined]
    return wrapper


def staff_only(scope: ConsoleScope) -> None:
    if not scope.is_staff:
        raise PermissionDenied("Only staff users can see this.")


def staff_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A console view for staff only; everyone else gets 403 before anything else is checked
    (method included), so the persona sweeps see one answer per persona."""

    @wraps(view)
    def checked(request: HttpRequest, scope: ConsoleScope, *args: Any, **kwargs: Any):
        staff_only(scope)
        return view(request, scope, *args, **kwargs)

    return console_view(checked)
