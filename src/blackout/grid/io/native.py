"""blackout's own JSON format: every table column by column, lossless."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from blackout.errors import CaseFormatError
from blackout.grid.model import Grid
from blackout.grid.schema import ELEMENTS
from blackout.inputfiles import CASE_MAX_BYTES, MAX_NESTING, check_nesting, read_text

__all__ = ["grid_to_dict", "grid_from_dict", "read_native", "write_native", "FORMAT"]

FORMAT = "blackout-grid"


def _enc(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def grid_to_dict(grid: Grid) -> dict[str, Any]:
    """The grid as a JSON-safe dict (non-finite floats as "nan"/"inf"/"-inf")."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "name": grid.name,
        "base_mva": grid.base_mva,
        "f_hz": grid.f_hz,
        "notes": dict(grid.notes),
    }
    for element in ELEMENTS:
        table = getattr(grid, element)
        out[element] = {k: [_enc(x) for x in np.asarray(v).tolist()] for k, v in table.items()}
    return out


#: Versions of the native format this reader understands.
SUPPORTED_VERSIONS = (1,)


def grid_from_dict(data: dict[str, Any], *, path: str | None = None) -> Grid:
    """Inverse of :func:`grid_to_dict`; raises :class:`CaseFormatError` on bad input.

    Checks the file's structure here (format, version, types of the system fields,
    each table a mapping of column name to a list); values then go through the
    schema's checks (types, finite numbers, physical ranges) in :class:`Grid`.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CaseFormatError(f"not a blackout grid file (expected \"format\": \"{FORMAT}\")",
                              path=path, field="format")
    version = data.get("version", 1)
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise CaseFormatError(f"unsupported version {version!r}; this reader understands "
                              f"{', '.join(map(str, SUPPORTED_VERSIONS))}", path=path,
                              field="version")
    system: dict[str, float] = {}
    for key, default in (("base_mva", 100.0), ("f_hz", 60.0)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise CaseFormatError(f"expected a number, got {type(value).__name__}",
                                  path=path, field=key)
        value = _dec(value)
        if isinstance(value, str):
            raise CaseFormatError(f"expected a number, got {value!r}", path=path, field=key)
        system[key] = float(value)
    name = data.get("name", "grid")
    if not isinstance(name, str):
        raise CaseFormatError(f"expected a string, got {type(name).__name__}", path=path,
                              field="name")
    notes = data.get("notes", {})
    if not isinstance(notes, dict):
        raise CaseFormatError(f"expected a mapping, got {type(notes).__name__}", path=path,
                              field="notes")
    tables = {}
    for element in ELEMENTS:
        cols = data.get(element)
        if not isinstance(cols, dict):
            raise CaseFormatError("missing table", path=path, table=element)
        for k, v in cols.items():
            if not isinstance(v, list):
                raise CaseFormatError(f"expected a list of values, got {type(v).__name__}",
                                      path=path, table=element, field=str(k))
        tables[element] = {k: [_dec(x) for x in v] for k, v in cols.items()}
    return Grid.from_columns(
        name=name,
        base_mva=system["base_mva"],
        f_hz=system["f_hz"],
        notes=notes,
        path=path,
        **tables,
    )


def read_case_json(path: str | Path) -> tuple[str, Any]:
    """A JSON case file's text and data (regular UTF-8 file, at most 256 MiB, at most
    ``MAX_NESTING`` levels deep); every JSON case reader goes through it."""
    path = Path(path)
    text = read_text(path, max_bytes=CASE_MAX_BYTES, what="case", error=CaseFormatError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFormatError(f"invalid JSON at line {exc.lineno}: {exc.msg}",
                              path=str(path)) from None
    except RecursionError:
        raise CaseFormatError("nested too deeply", path=str(path)) from None
    if check_nesting(data, limit=MAX_NESTING) is not None:
        raise CaseFormatError(f"nested too deeply (over {MAX_NESTING} levels)", path=str(path))
    return text, data


def read_native(path: str | Path) -> Grid:
    """Read a native JSON grid file (regular UTF-8 file, at most 256 MiB)."""
    path = Path(path)
    _, data = read_case_json(path)
    return grid_from_dict(data, path=str(path))


def write_native(grid: Grid, path: str | Path) -> None:
    """Write the grid as native JSON."""
    Path(path).write_text(json.dumps(grid_to_dict(grid)), encoding="utf-8")
