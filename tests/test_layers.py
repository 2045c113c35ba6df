"""The layers, from the import graph (parsed with `ast`, nothing imported): the reference instance
imports nothing of the suite, and no `conformance` module imports one that imports it back.

Every import counts, also the ones inside functions (a lazy import is still a dependency). Imports
under `if TYPE_CHECKING:` never run, but they still say that two modules know each other: the
run-time graph must have no cycle, and the typed graph neither.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "conformance"
# What the reference instance may import of this package: itself (and the package's __init__, which
# only holds the version, and which Python imports on the way to any submodule).
REFERENCE = "conformance.reference"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str) -> str | None:
    """The `conformance` module an imported name lands in (`a.b.c` -> `a.b` when c is a symbol)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, *, type_checking: bool = False) -> set[str]:
    """The `conformance` modules that `module` imports."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node) and not type_checking:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            names = []
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}
TYPED_GRAPH = {module: imports_of(module, type_checking=True) for module in MODULES}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_sees_the_package() -> None:
    # The test would pass vacuously on an empty graph: make sure it sees what it is about.
    assert "conformance.cli" in GRAPH and "conformance.reference.cli" in GRAPH
    assert "conformance._lib.registry" in GRAPH["conformance.selftest.mutation"]


def test_reference_imports_nothing_of_the_suite() -> None:
    outside = {
        module: sorted(t for t in targets if not _in(t, REFERENCE) and t != "conformance")
        for module, targets in GRAPH.items()
        if _in(module, REFERENCE)
    }
    assert {m: t for m, t in outside.items() if t} == {}, "reference/ must stand on its own"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(found)


def test_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_at_run_time() -> None:
    assert _cycles(GRAPH) == []


def test_no_import_cycles_even_for_types() -> None:
    # The run state lives in _lib/outcomes.py, which both the plugin and report.py read.
    assert _cycles(TYPED_GRAPH) == []
