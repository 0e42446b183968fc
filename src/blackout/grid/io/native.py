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


def grid_from_dict(data: dict[str, Any], *, path: str | None = None) -> Grid:
    """Inverse of :func:`grid_to_dict`; raises :class:`CaseFormatError` on bad input."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CaseFormatError(f"not a blackout grid file (expected \"format\": \"{FORMAT}\")",
                              path=path, field="format")
    tables = {}
    for element in ELEMENTS:
        cols = data.get(element)
        if not isinstance(cols, dict):
            raise CaseFormatError("missing table", path=path, table=element)
        tables[element] = {k: [_dec(x) for x in v] for k, v in cols.items()}
    return Grid.from_columns(
        name=str(data.get("name", "grid")),
        base_mva=data.get("base_mva", 100.0),
        f_hz=data.get("f_hz", 60.0),
        notes=data.get("notes", {}),
        path=path,
        **tables,
    )


def read_native(path: str | Path) -> Grid:
    """Read a native JSON grid file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseFormatError("file not found", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise CaseFormatError(f"invalid JSON at line {exc.lineno}: {exc.msg}",
                              path=str(path)) from None
    return grid_from_dict(data, path=str(path))


def write_native(grid: Grid, path: str | Path) -> None:
    """Write the grid as native JSON."""
    Path(path).write_text(json.dumps(grid_to_dict(grid)), encoding="utf-8")
