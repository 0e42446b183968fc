"""Readers and writers, one module per format behind :func:`read_case` / :func:`write_case`.

Formats by file suffix: ``.m`` / ``.mat`` MATPOWER, ``.json`` native blackout JSON or
pandapower JSON (told apart by content), ``.raw`` PSS/E (extra ``psse``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blackout.errors import CaseFormatError
from blackout.grid.io.matpower import read_matpower, write_matpower
from blackout.grid.io.native import FORMAT, grid_from_dict, read_case_json, write_native
from blackout.grid.io.pandapower import (
    grid_from_pandapower_json,
    write_pandapower_json,
)
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
        return "native" if _is_native(read_case_json(path)[1]) else "pandapower"
    raise CaseFormatError(
        f"unknown case format '{suffix}'; use .m, .mat (MATPOWER), .json (blackout or "
        "pandapower) or .raw (PSS/E)", path=str(path))


def _is_native(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def read_case(path: str | Path) -> Grid:
    """Read a case file of any supported format.

    Every format is read as data only: a ``.m`` file is parsed, never run; a
    pandapower JSON file may name only pandapower/pandas/numpy/shapely types (see
    :func:`blackout.grid.io.pandapower.check_pandapower_json`); the file must be a
    regular file under :data:`blackout.inputfiles.CASE_MAX_BYTES`. Every grid then
    passes the same checks from ``grid/schema.toml`` (finite numbers, physical
    ranges) whatever its format.
    """
    path = Path(path)
    fmt = detect_format(path)
    if fmt == "matpower":
        return read_matpower(path)
    if fmt == "psse":
        from blackout.grid.io.psse import read_psse

        return read_psse(path)
    text, data = read_case_json(path)
    if _is_native(data):
        return grid_from_dict(data, path=str(path))
    return grid_from_pandapower_json(text, name=path.stem, path=str(path))


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
