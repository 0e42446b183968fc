"""The layout of study/ (issue 22): no private name imported from one study module into
another, no import cycle among study modules, and the study API resolves."""

from __future__ import annotations

import ast
from pathlib import Path

import blackout.study as study

ROOT = Path(study.__file__).parent


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT.parent.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, list[ast.ImportFrom | ast.Import]]:
    out: dict[str, list[ast.ImportFrom | ast.Import]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text())
        out[_module(path)] = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom | ast.Import)]
    return out


def test_no_private_name_is_imported_across_study_modules() -> None:
    bad = [f"{mod}: {n.module}.{a.name}" for mod, nodes in _imports().items() for n in nodes
           if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("blackout.study")
           for a in n.names if a.name.startswith("_")]
    assert bad == []


def test_no_import_cycle_among_study_modules() -> None:
    graph: dict[str, set[str]] = {}
    mods = _imports()
    for mod, nodes in mods.items():
        deps: set[str] = set()
        for n in nodes:
            names = [n.module or ""] if isinstance(n, ast.ImportFrom) else [a.name for a in n.names]
            if isinstance(n, ast.ImportFrom):  # `from pkg import module` names a module too
                names += [f"{n.module}.{a.name}" for a in n.names]
            deps |= {d for d in names if d in mods and d != mod and not mod.startswith(d + ".")}
        graph[mod] = deps
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycle.extend(path + [m, d])
            elif d not in state:
                visit(d, path + [m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert cycle == []


def test_the_study_api_resolves() -> None:
    for name in study.__all__:
        assert getattr(study, name).__name__ == name
