"""pykue's modules import one another one way only: no cycle at runtime, in a function, or
under TYPE_CHECKING (issue 15), so each module can be read and changed from the bottom up."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pykue

PACKAGE = Path(pykue.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, modules: set[str]) -> set[str]:
    """The pykue modules one import statement names (``from . import x`` names module ``x``)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & modules
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1] if node.level else []
    target = ".".join(base + (node.module.split(".") if node.module else []))
    named = (f"{target}.{alias.name}" for alias in node.names)
    return {name if name in modules else target for name in named} & modules


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules = set(paths)
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        nodes = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, (ast.Import, ast.ImportFrom))]
        graph[module] = set().union(*(imported(module, path, node, modules) for node in nodes)) - {module}
    return graph


def test_no_import_cycle() -> None:
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_the_graph_sees_type_checking_imports() -> None:
    assert "pykue.job" in import_graph()["pykue.context"]  # context.py imports Job only for its hints
