"""The grid model: immutable per-element tables.

A :class:`Grid` holds one :class:`Table` per element type (bus, branch, gen,
load, region). Element ids are integer positions in their table; names are kept
alongside. Columns are read-only numpy arrays: nothing downstream mutates the
grid. A cascade state is a set of status vectors beside it, and a variant of the
grid is a new Grid made with :meth:`Grid.replace`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blackout.errors import CaseFormatError, UnknownElementError
from blackout.grid.schema import ELEMENTS, build_columns, limits

__all__ = ["Table", "Grid"]


class Table(Mapping[str, np.ndarray]):
    """A read-only table: a mapping of column name to a read-only 1-D numpy array."""

    __slots__ = ("_cols", "_n", "element")

    def __init__(self, element: str, columns: Mapping[str, Any], *, path: str | None = None):
        cols = build_columns(element, dict(columns), path=path)
        for arr in cols.values():
            arr.flags.writeable = False
        self.element = element
        self._cols = cols
        self._n = len(next(iter(cols.values()))) if cols else 0

    def __getitem__(self, key: str) -> np.ndarray:
        return self._cols[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)

    @property
    def n(self) -> int:
        """Number of rows (elements)."""
        return self._n

    def to_frame(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (a copy)."""
        return pd.DataFrame({k: np.array(v) for k, v in self._cols.items()})

    def with_columns(self, **columns: Any) -> Table:
        """A new table with some columns replaced."""
        cols: dict[str, Any] = dict(self._cols)
        cols.update(columns)
        return Table(self.element, cols)

    def equals(self, other: Table) -> bool:
        """Exact equality of every column (NaN equals NaN)."""
        if set(self) != set(other) or self.n != other.n:
            return False
        for k, a in self._cols.items():
            b = other[k]
            if a.dtype == object:
                if not np.array_equal(a, b):
                    return False
            elif not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                return False
        return True

    def __repr__(self) -> str:
        return f"Table({self.element!r}, n={self.n})"


@dataclass(frozen=True)
class Grid:
    """A power network: per-element tables plus system data.

    Attributes
    ----------
    name : case name.
    base_mva : system base power in MVA.
    f_hz : nominal frequency in Hz (50 or 60).
    bus, branch, gen, load, region : the element tables (see ``grid/schema.toml``).
    notes : provenance of the data: source, which ratings were given or derived and how.
    """

    name: str
    base_mva: float
    f_hz: float
    bus: Table
    branch: Table
    gen: Table
    load: Table
    region: Table
    notes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_columns(
        cls,
        *,
        name: str,
        base_mva: float = 100.0,
        f_hz: float = 60.0,
        bus: Mapping[str, Any],
        branch: Mapping[str, Any],
        gen: Mapping[str, Any],
        load: Mapping[str, Any] | None = None,
        region: Mapping[str, Any] | None = None,
        notes: Mapping[str, Any] | None = None,
        path: str | None = None,
    ) -> Grid:
        """Build and validate a grid from column mappings (lists or arrays per attribute)."""
        grid = cls(
            name=name,
            base_mva=float(base_mva),
            f_hz=float(f_hz),
            bus=Table("bus", bus, path=path),
            branch=Table("branch", branch, path=path),
            gen=Table("gen", gen, path=path),
            load=Table("load", load or {"bus": []}, path=path),
            region=Table("region", region or {"name": []}, path=path),
            notes=dict(notes or {}),
        )
        grid.validate(path=path)
        return grid

    def replace(self, **tables: Any) -> Grid:
        """A new grid with some tables (Table or column mappings) or fields replaced."""
        kwargs: dict[str, Any] = {}
        for key, value in tables.items():
            if key in ELEMENTS and not isinstance(value, Table):
                value = Table(key, value)
            kwargs[key] = value
        cur = {f: getattr(self, f) for f in self.__dataclass_fields__}
        cur.update(kwargs)
        grid = Grid(**cur)
        grid.validate()
        return grid

    # ------------------------------------------------------------------ checks
    def validate(self, *, path: str | None = None) -> None:
        """Check references and physical sanity; raise :class:`CaseFormatError` naming the row.

        Per-column ranges (finite numbers, kV > 0, inertia, droop, ratings, ...) are
        checked when each table is built, from ``grid/schema.toml``; here the system
        data (base MVA, nominal frequency in ``[limits]``) and the cross-table rules.
        """
        lim = limits()
        if not 0 < self.base_mva <= lim["base_mva_max"]:
            raise CaseFormatError(f"baseMVA must be > 0 and <= {lim['base_mva_max']:g} MVA, "
                                  f"got {self.base_mva}", path=path, field="baseMVA")
        if not lim["f_hz_min"] <= self.f_hz <= lim["f_hz_max"]:
            raise CaseFormatError(f"nominal frequency must be within {lim['f_hz_min']:g}-"
                                  f"{lim['f_hz_max']:g} Hz, got {self.f_hz}", path=path,
                                  field="f_hz")
        nb = self.bus.n
        if nb == 0:
            raise CaseFormatError("the case has no buses", path=path, table="bus")
        numbers = self.bus["number"]
        uniq, counts = np.unique(numbers, return_counts=True)
        if np.any(counts > 1):
            dup = int(uniq[counts > 1][0])
            row = int(np.flatnonzero(numbers == dup)[1])
            raise CaseFormatError(f"duplicate bus number {dup}", path=path, table="bus",
                                  row=row, field="number")
        for element, cols in (("branch", ("from_bus", "to_bus")), ("gen", ("bus",)),
                              ("load", ("bus",))):
            table = getattr(self, element)
            for col in cols:
                bad = np.flatnonzero((table[col] < 0) | (table[col] >= nb))
                if bad.size:
                    raise CaseFormatError(
                        f"refers to unknown bus {int(table[col][bad[0]])}", path=path,
                        table=element, row=int(bad[0]), field=col)
        x = self.branch["x_pu"]
        r = self.branch["r_pu"]
        bad = np.flatnonzero((np.abs(x) + np.abs(r) == 0) & self.branch["in_service"])
        if bad.size:
            raise CaseFormatError("zero series impedance (r = x = 0)", path=path,
                                  table="branch", row=int(bad[0]), field="x_pu")
        bad = np.flatnonzero(self.bus["vmax_pu"] < self.bus["vmin_pu"])
        if bad.size:
            raise CaseFormatError("vmax_pu below vmin_pu", path=path, table="bus",
                                  row=int(bad[0]), field="vmax_pu")
        for hi, lo in (("pmax_mw", "pmin_mw"), ("qmax_mvar", "qmin_mvar")):
            bad = np.flatnonzero(self.gen[hi] < self.gen[lo])
            if bad.size:
                raise CaseFormatError(f"{hi} below {lo}", path=path, table="gen",
                                      row=int(bad[0]), field=hi)
        reg = self.bus["region"]
        bad = np.flatnonzero((reg < -1) | (reg >= self.region.n))
        if bad.size:
            raise CaseFormatError(f"refers to unknown region {int(reg[bad[0]])}", path=path,
                                  table="bus", row=int(bad[0]), field="region")
        if self.gen.n and not np.any(self.bus["type"] == 3) and not np.any(self.gen["in_service"]):
            raise CaseFormatError("no slack bus and no in-service generator", path=path,
                                  table="bus", field="type")

    # ------------------------------------------------------------------ lookup
    def find(self, element: str, name: str) -> int:
        """Position of the element called ``name``; also accepts ``"#<position>"``.

        Raises :class:`UnknownElementError` listing the closest names.
        """
        table: Table = getattr(self, element)
        if name.startswith("#") and name[1:].isdigit():
            pos = int(name[1:])
            if 0 <= pos < table.n:
                return pos
        names = list(table["name"])
        if name in names:
            return names.index(name)
        folded = [str(n).casefold() for n in names]
        if name.casefold() in folded:
            return folded.index(name.casefold())
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise UnknownElementError(f"no {element} named {name!r} in case {self.name}{hint}")

    def find_any(self, name: str) -> tuple[str, int]:
        """(element kind, position) of a branch, generator, bus or load called ``name``."""
        for element in ("branch", "gen", "bus", "load"):
            try:
                return element, self.find(element, name)
            except UnknownElementError:
                continue
        names = [str(n) for e in ("branch", "gen", "bus") for n in getattr(self, e)["name"]]
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise UnknownElementError(f"no element named {name!r} in case {self.name}{hint}")

    # ------------------------------------------------------------------ helpers
    def bus_load_mw(self) -> np.ndarray:
        """In-service load per bus, MW."""
        p = np.where(self.load["in_service"], self.load["p_mw"], 0.0)
        return np.bincount(self.load["bus"], weights=p, minlength=self.bus.n)

    def summary(self) -> dict[str, Any]:
        """Counts and totals for listings."""
        return {
            "name": self.name,
            "buses": self.bus.n,
            "branches": self.branch.n,
            "gens": self.gen.n,
            "loads": self.load.n,
            "regions": self.region.n,
            "load_mw": float(self.load["p_mw"][self.load["in_service"]].sum()),
            "gen_mw": float(self.gen["p_mw"][self.gen["in_service"]].sum()),
            "f_hz": self.f_hz,
        }

    def equals(self, other: Grid) -> bool:
        """Exact equality of every table and of the system data."""
        return (
            self.name == other.name
            and self.base_mva == other.base_mva
            and self.f_hz == other.f_hz
            and all(getattr(self, e).equals(getattr(other, e)) for e in ELEMENTS)
        )
