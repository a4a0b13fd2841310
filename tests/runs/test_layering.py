"""The runs app's modules import one way only (issue 15): no cycle, not even through imports
inside functions, and nothing but the Celery layer imports ``tasks``."""

from __future__ import annotations

import ast
from pathlib import Path

import designer.runs

ROOT = Path(designer.runs.__file__).parent


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in ROOT.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "designer.runs":
                deps.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "designer.runs."
            ):
                deps.add(node.module.split(".")[2])
        graph[path.stem] = deps - {path.stem}
    return graph


def test_no_import_cycle_in_the_runs_app():
    graph = _imports()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for dep in graph.get(module, ()):
            if dep in path:
                cycles.append(" -> ".join([*path[path.index(dep) :], dep]))
            else:
                visit(dep, [*path, dep])

    for module in graph:
        visit(module, [module])
    assert cycles == []


def test_only_the_celery_layer_imports_tasks():
    graph = _imports()
    assert [module for module, deps in graph.items() if "tasks" in deps] == []
    assert {"services", "schedules"} <= graph["tasks"] and "engine" in graph["tasks"]
    assert graph["steps"] == set()  # the pure steps need nothing of the app
