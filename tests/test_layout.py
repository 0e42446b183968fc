"""The package's import graph: no cycle between modules, no private name imported across.

Walks every module of ``src/blackout`` with :mod:`ast` (imports at module level, inside
functions and under ``TYPE_CHECKING`` alike) and builds the graph of imports between
blackout modules. A package ``__init__`` re-exporting its own submodules' names is an
edge like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "blackout"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()


def _resolve(module: str, level: int, here: str, is_package: bool) -> str:
    """The absolute name of ``from <level dots><module> import ...`` in ``here``."""
    if level == 0:
        return module
    base = here.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _target(name: str) -> str | None:
    """The blackout module ``name`` refers to (a module, or the module defining it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str) -> list[tuple[str, str | None, int]]:
    """(module imported, name imported or None, line) for every import in module ``name``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(node.module or "", node.level, name, path.name == "__init__.py")
            for a in node.names:
                sub = f"{mod}.{a.name}"
                if sub in MODULES:  # ``from package import submodule``
                    out.append((sub, None, node.lineno))
                else:
                    out.append((mod, a.name, node.lineno))
    return [(m, n, line) for m, n, line in out if m == "blackout" or m.startswith("blackout.")]


def graph() -> dict[str, set[str]]:
    """Module -> the blackout modules it imports (itself and its own package left out:
    a submodule importing its package's ``__init__`` is how Python loads it anyway)."""
    out: dict[str, set[str]] = {}
    for name in MODULES:
        edges = set()
        for mod, _, _ in imports_of(name):
            t = _target(mod)
            if t is not None and t != name and not name.startswith(t + "."):
                edges.add(t)
        out[name] = edges
    return out


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def private_imports() -> list[str]:
    """``module:line imports _name from other`` for every private name imported from
    another module (a module's own package's private names included)."""
    out = []
    for name in MODULES:
        for mod, imported, line in imports_of(name):
            if imported is not None and imported.startswith("_") and not (
                    imported.startswith("__") and imported.endswith("__")):
                if _target(mod) != name:
                    out.append(f"{name}:{line} imports {imported} from {mod}")
    return out


def test_the_walker_sees_function_level_imports_and_cycles() -> None:
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert "blackout.cascade.engine" in graph()["blackout.scenario.run"]  # inside a function


def test_no_import_cycle_among_modules() -> None:
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_private_name_imported_across_modules() -> None:
    found = private_imports()
    assert not found, "private names imported across modules:\n" + "\n".join(found)


@pytest.mark.parametrize("name", ["blackout.grid.model", "blackout.grid.ratings",
                                  "blackout.grid.topology"])
def test_grid_imports_nothing_above_it(name: str) -> None:
    above = {t for t in graph()[name] if not t.startswith("blackout.grid")}
    assert above <= {"blackout.errors", "blackout.inputfiles", "blackout"}, above
