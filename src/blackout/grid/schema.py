"""The element schema (``schema.toml``) and table construction/validation from it."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from blackout.errors import CaseFormatError

__all__ = ["Attribute", "ELEMENTS", "schema", "build_columns"]

ELEMENTS = ("bus", "branch", "gen", "load", "region")
_DTYPES: dict[str, Any] = {"int": np.int64, "float": np.float64, "bool": np.bool_, "str": object}
_REQUIRED = object()


@dataclass(frozen=True)
class Attribute:
    """One attribute of an element table."""

    name: str
    dtype: str
    unit: str
    default: Any
    description: str

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@lru_cache(maxsize=1)
def schema() -> dict[str, dict[str, Attribute]]:
    """The schema: ``{element: {attribute: Attribute}}`` in file order."""
    text = resources.files("blackout.grid").joinpath("schema.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    out: dict[str, dict[str, Attribute]] = {}
    for element in ELEMENTS:
        out[element] = {
            name: Attribute(
                name=name,
                dtype=spec["dtype"],
                unit=spec.get("unit", ""),
                default=spec.get("default", _REQUIRED),
                description=spec["description"],
            )
            for name, spec in raw[element].items()
        }
    return out


def _convert(values: Any, attr: Attribute, *, n: int, path: str | None, table: str) -> np.ndarray:
    dtype = _DTYPES[attr.dtype]
    if attr.dtype == "str":
        arr = np.array(["" if v is None else str(v) for v in values], dtype=object)
    else:
        try:
            arr = np.asarray(values, dtype=np.float64 if attr.dtype != "bool" else None)
        except (TypeError, ValueError):
            bad = next(
                (i for i, v in enumerate(values) if not _is_number(v)), 0
            )
            raise CaseFormatError(
                f"non-numeric value {list(values)[bad]!r}",
                path=path, table=table, row=bad, field=attr.name,
            ) from None
        if attr.dtype == "int":
            if arr.size and not np.all(np.isfinite(arr)):
                bad = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise CaseFormatError("missing or infinite integer", path=path, table=table,
                                      row=bad, field=attr.name)
            if arr.size and np.any(arr != np.round(arr)):
                bad = int(np.flatnonzero(arr != np.round(arr))[0])
                raise CaseFormatError(f"expected an integer, got {arr[bad]}", path=path,
                                      table=table, row=bad, field=attr.name)
        arr = arr.astype(dtype)
    if arr.shape != (n,):
        raise CaseFormatError(f"expected {n} values, got shape {arr.shape}", path=path,
                              table=table, field=attr.name)
    return arr


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def build_columns(
    element: str, columns: dict[str, Any], *, n: int | None = None, path: str | None = None
) -> dict[str, np.ndarray]:
    """Columns for one element table, typed and with defaults filled in from the schema.

    Raises :class:`CaseFormatError` for an unknown attribute, a missing required
    attribute, a wrong length or a value of the wrong type.
    """
    spec = schema()[element]
    unknown = set(columns) - set(spec)
    if unknown:
        raise CaseFormatError(
            f"unknown attribute(s) {sorted(unknown)}; allowed: {list(spec)}",
            path=path, table=element, field=sorted(unknown)[0],
        )
    if n is None:
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise CaseFormatError(f"columns of different lengths {sorted(lengths)}",
                                  path=path, table=element)
        n = lengths.pop() if lengths else 0
    out: dict[str, np.ndarray] = {}
    for name, attr in spec.items():
        if name in columns:
            out[name] = _convert(columns[name], attr, n=n, path=path, table=element)
        elif attr.required:
            raise CaseFormatError("required attribute missing", path=path, table=element,
                                  field=name)
        else:
            default = attr.default
            if attr.dtype == "float" and isinstance(default, float) and math.isnan(default):
                default = np.nan
            out[name] = np.full(n, default, dtype=_DTYPES[attr.dtype])
    return out
