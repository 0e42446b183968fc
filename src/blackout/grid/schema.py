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

__all__ = ["Attribute", "ELEMENTS", "schema", "limits", "build_columns", "check_range"]

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
    min: float | None = None
    max: float | None = None
    gt: float | None = None
    allow_nan: bool = False
    allow_inf: bool = False

    @property
    def required(self) -> bool:
        """True when the field has no default and a case must give it."""
        return self.default is _REQUIRED


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = resources.files("blackout.grid").joinpath("schema.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def limits() -> dict[str, float]:
    """The ``[limits]`` table: magnitude caps and the nominal-frequency range (see the file)."""
    return dict(_raw()["limits"])


@lru_cache(maxsize=1)
def schema() -> dict[str, dict[str, Attribute]]:
    """The schema: ``{element: {attribute: Attribute}}`` in file order."""
    raw = _raw()
    out: dict[str, dict[str, Attribute]] = {}
    for element in ELEMENTS:
        out[element] = {
            name: Attribute(
                name=name,
                dtype=spec["dtype"],
                unit=spec.get("unit", ""),
                default=spec.get("default", _REQUIRED),
                description=spec["description"],
                min=spec.get("min"),
                max=spec.get("max"),
                gt=spec.get("gt"),
                allow_nan=spec.get("allow_nan", False),
                allow_inf=spec.get("allow_inf", False),
            )
            for name, spec in raw[element].items()
        }
    return out


def _convert(values: Any, attr: Attribute, *, n: int, path: str | None, table: str) -> np.ndarray:
    dtype = _DTYPES[attr.dtype]
    if attr.dtype == "str":
        arr = np.array(["" if v is None else str(v) for v in values], dtype=object)
    elif isinstance(values, list | tuple):
        # values from a file (native JSON): numbers only, null only where NaN is allowed
        for i, v in enumerate(values):
            if attr.dtype == "bool":
                ok = isinstance(v, bool | np.bool_) or (isinstance(v, int) and v in (0, 1))
            elif v is None:
                ok = attr.allow_nan
            else:
                ok = isinstance(v, int | float | np.number) and not isinstance(v, bool)
            if not ok:
                want = {"bool": "true or false", "int": "an integer",
                        "float": "a number"}[attr.dtype]
                got = "null (NaN or null is not allowed here)" if v is None else repr(v)
                raise CaseFormatError(f"expected {want}, got {got}", path=path, table=table,
                                      row=i, field=attr.name)
        try:
            typed = np.array([np.nan if v is None else v for v in values],
                             dtype=np.float64 if attr.dtype != "bool" else np.bool_)
        except OverflowError:
            raise CaseFormatError("a number is out of range", path=path, table=table,
                                  field=attr.name) from None
        return _convert(typed, attr, n=n, path=path, table=table)
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
            cap = limits()["int_abs_max"]
            if arr.size and np.any(np.abs(arr) > cap):
                bad = int(np.flatnonzero(np.abs(arr) > cap)[0])
                raise CaseFormatError(f"integer {arr[bad]:g} is out of range (|x| <= {cap})",
                                      path=path, table=table, row=bad, field=attr.name)
        elif attr.dtype == "bool" and arr.dtype != np.bool_:
            if arr.dtype.kind not in "biuf" or not np.all(np.isin(arr, (0, 1))):
                bad = int(np.flatnonzero(~np.isin(arr, (0, 1)))[0]) if \
                    arr.dtype.kind in "biuf" else 0
                raise CaseFormatError(f"expected true or false, got {arr[bad]!r}", path=path,
                                      table=table, row=bad, field=attr.name)
        arr = arr.astype(dtype)
    if arr.shape != (n,):
        raise CaseFormatError(f"expected {n} values, got shape {arr.shape}", path=path,
                              table=table, field=attr.name)
    if attr.dtype in ("int", "float"):
        check_range(arr, attr, path=path, table=table)
    return arr


def check_range(arr: np.ndarray, attr: Attribute, *, path: str | None = None,
                table: str | None = None) -> None:
    """Refuse values outside the schema's range for ``attr`` (see ``schema.toml``).

    NaN and +-inf are refused unless ``allow_nan`` / ``allow_inf``; finite values
    must lie within ``min``/``max``/``gt`` and within ``[limits]`` magnitude caps.
    Raises :class:`CaseFormatError` naming the table, the first bad row and the field.
    """
    if not arr.size:
        return
    values = arr.astype(np.float64, copy=False)
    nan = np.isnan(values)
    inf = np.isinf(values)
    unit = f" {attr.unit}" if attr.unit else ""

    def fail(mask: np.ndarray, why: str) -> None:
        row = int(np.flatnonzero(mask)[0])
        raise CaseFormatError(f"value {values[row]:g}{unit} {why}", path=path, table=table,
                              row=row, field=attr.name)

    if nan.any() and not attr.allow_nan:
        fail(nan, "is not a number (NaN or null); a finite value is required")
    if inf.any() and not attr.allow_inf:
        fail(inf, "is infinite; a finite value is required")
    finite = ~(nan | inf)
    cap = limits()["float_abs_max"] if attr.dtype == "float" else limits()["int_abs_max"]
    with np.errstate(invalid="ignore"):
        big = finite & (np.abs(values) > cap)
        if big.any():
            fail(big, f"is out of range (|x| <= {cap:g})")
        if attr.gt is not None and (low := finite & ~(values > attr.gt)).any():
            fail(low, f"must be > {attr.gt:g}{unit}")
        if attr.min is not None and (low := (finite | inf) & (values < attr.min)).any():
            fail(low, f"is below the minimum {attr.min:g}{unit}")
        if attr.max is not None and (high := (finite | inf) & (values > attr.max)).any():
            fail(high, f"is above the maximum {attr.max:g}{unit}")


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
