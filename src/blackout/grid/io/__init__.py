"""Readers and writers, one module per format behind :func:`read_case` / :func:`write_case`.

Formats by file suffix: ``.m`` / ``.mat`` MATPOWER, ``.json`` native blackout JSON or
pandapower JSON (told apart by content), ``.raw`` PSS/E (extra ``psse``).
"""

from __future__ import annotations

import json
from pathlib import Path

from blackout.errors import CaseFormatError
from blackout.grid.io.matpower import read_matpower, write_matpower
from blackout.grid.io.native import FORMAT, read_native, write_native
from blackout.grid.io.pandapower import read_pandapower_json, write_pandapower_json
from blackout.grid.model import Grid

__all__ = ["read_case", "write_case", "detect_format"]


def detect_format(path: str | Path) -> str:
    """"matpower", "native", "pandapower" or "psse" from the suffix (and content for .json)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".m", ".mat"):
        return "matpower"
    if suffix == ".raw":
        return "psse"
    if suffix == ".json":
        if not path.exists():
            raise CaseFormatError("file not found", path=str(path))
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        if f'"format": "{FORMAT}"' in head or f'"format":"{FORMAT}"' in head:
            return "native"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CaseFormatError(f"invalid JSON at line {exc.lineno}: {exc.msg}",
                                  path=str(path)) from None
        if isinstance(data, dict) and data.get("format") == FORMAT:
            return "native"
        return "pandapower"
    raise CaseFormatError(
        f"unknown case format '{suffix}'; use .m, .mat (MATPOWER), .json (blackout or "
        "pandapower) or .raw (PSS/E)", path=str(path))


def read_case(path: str | Path) -> Grid:
    """Read a case file of any supported format."""
    fmt = detect_format(path)
    if fmt == "matpower":
        return read_matpower(path)
    if fmt == "native":
        return read_native(path)
    if fmt == "pandapower":
        return read_pandapower_json(path)
    from blackout.grid.io.psse import read_psse

    return read_psse(path)


def write_case(grid: Grid, path: str | Path, *, fmt: str | None = None) -> None:
    """Write ``grid`` to ``path``; ``fmt`` ("matpower", "native", "pandapower") defaults from
    the suffix (``.json`` means native)."""
    path = Path(path)
    fmt = fmt or {".m": "matpower", ".json": "native"}.get(path.suffix.lower())
    if fmt == "matpower":
        write_matpower(grid, path)
    elif fmt == "native":
        write_native(grid, path)
    elif fmt == "pandapower":
        write_pandapower_json(grid, path)
    else:
        raise CaseFormatError("cannot write this format; use .m, .json or --to pandapower",
                              path=str(path))
