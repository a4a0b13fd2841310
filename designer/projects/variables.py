"""Project variables in field values: ``[name]`` is replaced by the variable's value.

Called on a connection's config before Test and on connection and activity config at run
time. ``\\[name]`` keeps the brackets literally.
"""

from __future__ import annotations

import re
from typing import Any

from designer.projects.models import Project, Variable

REFERENCE = re.compile(r"(\\?)\[([A-Za-z_][A-Za-z0-9_.]*)\]")


class MissingVariable(LookupError):
    """A field refers to a project variable that does not exist."""

    def __init__(self, names: list[str], project: Project) -> None:
        self.names = names
        self.name = names[0]
        refs = ", ".join(f"[{n}]" for n in names)
        noun = "variable" if len(names) == 1 else "variables"
        super().__init__(
            f"Project {noun} {refs} not defined in project “{project.name}”: "
            "add it under the project's Settings, Variables."
        )


def references(value: Any) -> set[str]:
    """The variable names a value (str, or nested dict/list) refers to."""
    found: set[str] = set()
    if isinstance(value, str):
        found.update(m.group(2) for m in REFERENCE.finditer(value) if not m.group(1))
    elif isinstance(value, dict):
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= references(item)
    return found


def _substitute(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(1):  # escaped: keep "[name]" without the backslash
                return match.group(0)[1:]
            return values[match.group(2)]

        return REFERENCE.sub(replace, value)
    if isinstance(value, dict):
        return {key: _substitute(item, values) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_substitute(item, values) for item in value]
    return value


def resolve(project: Project, value: Any) -> Any:
    """The same shape with every ``[name]`` replaced; MissingVariable names what's missing.

    One query; secret values are decrypted only when referred to.
    """
    names = references(value)
    if not names:
        return value
    found = {v.name: v for v in Variable.objects.filter(project=project, name__in=names)}
    missing = sorted(names - found.keys())
    if missing:
        raise MissingVariable(missing, project)
    return _substitute(value, {name: v.resolved_value() for name, v in found.items()})


def secret_values(project: Project) -> dict[str, str]:
    """The project's secret variable values, so logs can mask them wherever they appear."""
    return {
        v.name: v.resolved_value() for v in Variable.objects.filter(project=project, is_secret=True)
    }
