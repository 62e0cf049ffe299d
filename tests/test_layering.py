"""The layering of skillpm.registry and skillpm.installing: no import circle, backends below the factory.

The import graph is read from the source with ``ast``: every import, at module
level or inside a function (a function-level import hides a circle from Python,
not from a reader), but not those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skillpm"
LAYERED = ("skillpm.registry", "skillpm.installing")
BACKENDS = ("skillpm.registry.directory", "skillpm.registry.http")
ABOVE_BACKENDS = ("skillpm.registry.factory", "skillpm.registry.chain", "skillpm.registry.configure")


def module_names() -> dict[str, Path]:
    """Every module of skillpm by dotted name (a package by its ``__init__.py``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree`` that can run: those under ``if TYPE_CHECKING:`` left out."""
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for statement in node.body
        for inner in ast.walk(statement)
    }
    return [
        node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped
    ]


def import_graph() -> dict[str, set[str]]:
    """Module -> the skillpm modules it imports (``from package import module`` counts as the module)."""
    modules = module_names()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in modules)
                continue
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                edges.add(target if target in modules else base)
        graph[name] = {edge for edge in edges if edge in modules and edge != name}
    return graph


def cycles(graph: dict[str, set[str]], within: tuple[str, ...]) -> list[list[str]]:
    """The import circles among the modules named ``within`` (or below them), each as a path."""
    inside = {name for name in graph if name.startswith(within)}
    found, state = [], dict.fromkeys(inside, 0)  # 0 unseen, 1 on the path, 2 done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for edge in sorted(graph[name] & inside):
            if state[edge] == 1:
                found.append([*path[path.index(edge) :], edge])
            elif state[edge] == 0:
                visit(edge, [*path, edge])
        state[name] = 2

    for name in sorted(inside):
        if state[name] == 0:
            visit(name, [name])
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for edge in graph[todo.pop()] - seen:
            seen.add(edge)
            todo.append(edge)
    return seen


def test_the_import_graph_sees_function_level_imports() -> None:
    """The graph holds module-level and function-level edges, and :func:`cycles` finds a circle when there is one."""
    graph = import_graph()
    assert "skillpm.registry.factory" in graph["skillpm.registry.configure"]
    assert "skillpm.registry.http" in graph["skillpm.registry.factory"]  # imported inside open_registry
    assert "skillpm.registry.trust" in graph["skillpm.registry.directory"]  # imported inside __init__
    assert cycles({"a.x": {"a.y"}, "a.y": {"a.x"}, "b": set()}, ("a",)) == [["a.x", "a.y", "a.x"]]


@pytest.mark.parametrize("package", LAYERED)
def test_no_import_circle(package: str) -> None:
    assert cycles(import_graph(), (package,)) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_backend_reaches_the_factory(backend: str) -> None:
    assert reachable(import_graph(), backend) & set(ABOVE_BACKENDS) == set()


def test_each_module_imports_alone() -> None:
    """Each module of the layered packages imports in a fresh interpreter, first of its package."""
    names = [name for name in module_names() if name.startswith(LAYERED)]
    code = (
        "import importlib, subprocess, sys\n"
        "failed = [n for n in sys.argv[1:] if subprocess.run([sys.executable, '-c', f'import {n}'], "
        "capture_output=True, timeout=60).returncode]\n"
        "print(' '.join(failed))"
    )
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
