"""pandapower nets and pandapower JSON files, through pandapower's own ``to_ppc`` converter.

pandapower's internal branch model has a shunt conductance column (``BR_G``,
transformer iron losses) that MATPOWER lacks; it is kept as ``g_pu``.
pandapower marks a missing rating with sentinel values (99999 kA on lines,
9900 MVA from PYPOWER's convention): those branches are read as unrated
(``rate_a_mva = 0``, ``rating_given = False``), never as a real limit.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from blackout.errors import CaseFormatError
from blackout.grid.io.ppc import grid_from_ppc
from blackout.grid.model import Grid

__all__ = ["grid_from_pandapower", "read_pandapower_json", "grid_to_pandapower",
           "write_pandapower_json"]

_SENTINEL_MVA = 9900.0
_SENTINEL_KA = 99999.0


def grid_from_pandapower(net: Any, *, name: str = "pandapower", path: str | None = None) -> Grid:
    """Convert an in-memory pandapower net to a Grid (via ``pandapower.converter.to_ppc``)."""
    from pandapower.converter.pypower.to_ppc import to_ppc

    logging.getLogger("pandapower").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ppc = to_ppc(net, init="flat", calculate_voltage_angles=True,
                         check_connectivity=False)
    except Exception as exc:
        raise CaseFormatError(f"pandapower could not convert the net ({exc})",
                              path=path) from None
    lookup = net._pd2ppc_lookups
    bus_lookup = np.asarray(lookup["bus"])
    nb = ppc["bus"].shape[0]
    names = [""] * nb
    numbers = np.arange(1, nb + 1)
    for idx, nm in zip(net.bus.index, net.bus["name"], strict=True):
        p = int(bus_lookup[idx])
        if names[p] == "":
            names[p] = str(nm) if nm is not None and str(nm) != "nan" else str(idx)
    if all(n.lstrip("-").isdigit() for n in names) and len(set(names)) == nb:
        numbers = np.array([int(n) for n in names])
    ppc["bus"][:, 0] = numbers
    for key in ("branch", "gen"):
        arr = ppc[key].real
        cols = [0, 1] if key == "branch" else [0]
        for c in cols:
            arr[:, c] = numbers[arr[:, c].astype(int)]
        ppc[key] = arr
    ppc["bus_name"] = names
    for extra in ("branch_r_asym", "branch_x_asym", "branch_g_asym", "branch_b_asym"):
        if extra in ppc:
            raise CaseFormatError("asymmetric branch impedances are not supported", path=path,
                                  table="branch", field=extra)
    if "branch_g" in ppc:
        ppc["branch_g_pu"] = np.asarray(ppc["branch_g"]).real
    branch = ppc["branch"]
    ppc["branch_name"] = _branch_names(net, lookup, branch.shape[0])
    kind = np.full(branch.shape[0], "line", dtype=object)
    for table, (start, stop) in lookup["branch"].items():
        if table.startswith("trafo"):
            kind[start:stop] = "transformer"
    ppc["branch_kind"] = kind
    # pandapower's "no rating" sentinels -> unrated
    rate = branch[:, 5]
    sentinel = (rate >= _SENTINEL_MVA * (1 - 1e-9)) & np.isclose(
        np.mod(rate, _SENTINEL_MVA), 0.0) | (rate >= 1e6)
    sentinel |= _line_sentinel(net, lookup, branch.shape[0])
    branch[sentinel, 5:8] = 0.0
    grid = grid_from_ppc(ppc, name=name, path=path, f_hz=float(net.f_hz),
                         require_slack=False)
    return grid


def _branch_names(net: Any, lookup: dict[str, Any], n: int) -> list[str] | None:
    names: list[str] = [""] * n
    for table in ("line", "trafo", "impedance"):
        if table not in lookup["branch"]:
            continue
        start, stop = lookup["branch"][table]
        df = getattr(net, table)
        for k, nm in enumerate(df["name"]):
            if start + k < stop:
                names[start + k] = str(nm) if isinstance(nm, str) and nm else ""
    if any(n == "" for n in names):
        return None
    if len(set(names)) != n:
        return None
    return names


def _line_sentinel(net: Any, lookup: dict[str, Any], n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if "line" in lookup["branch"]:
        start, stop = lookup["branch"]["line"]
        out[start:stop] = net.line["max_i_ka"].to_numpy()[: stop - start] >= _SENTINEL_KA * 0.999
    return out


def read_pandapower_json(path: str | Path) -> Grid:
    """Read a pandapower JSON file (``pandapower.to_json``) into a Grid."""
    import pandapower as pp

    path = Path(path)
    if not path.exists():
        raise CaseFormatError("file not found", path=str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = pp.from_json(str(path))
    except Exception as exc:
        raise CaseFormatError(f"not a pandapower JSON net ({type(exc).__name__}: {exc})",
                              path=str(path)) from None
    return grid_from_pandapower(net, name=path.stem, path=str(path))


def grid_to_pandapower(grid: Grid) -> Any:
    """The grid as a pandapower net (via ``pandapower.converter.from_ppc``)."""
    from pandapower.converter.pypower.from_ppc import from_ppc

    from blackout.grid.io.ppc import grid_to_ppc

    ppc = grid_to_ppc(grid)
    ppc = {k: v for k, v in ppc.items() if not k.endswith("_name")}
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_ppc(ppc, f_hz=grid.f_hz, validate_conversion=False)
    return net


def write_pandapower_json(grid: Grid, path: str | Path) -> None:
    """Write the grid as a pandapower JSON file."""
    import pandapower as pp

    pp.to_json(grid_to_pandapower(grid), str(path))
