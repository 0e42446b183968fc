"""Conversion between a :class:`Grid` and a PYPOWER/MATPOWER case dict (``ppc``).

MATPOWER files and pandapower nets both go through this one mapping. Column
indices follow MATPOWER's ``idx_bus``/``idx_brch``/``idx_gen`` (pandapower's
``pypower`` copies them). Bus demand ``PD``/``QD`` becomes one load per bus
with non-zero demand; writing sums loads per bus again, so a round trip is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from blackout.errors import CaseFormatError
from blackout.grid.model import Grid
from blackout.grid.schema import limits

__all__ = ["grid_from_ppc", "grid_to_ppc", "BUS_COLS", "BRANCH_COLS", "GEN_COLS"]

# MATPOWER column names (first 13 of bus and branch, first 10 of gen are required)
BUS_COLS = ["BUS_I", "BUS_TYPE", "PD", "QD", "GS", "BS", "BUS_AREA", "VM", "VA", "BASE_KV",
            "ZONE", "VMAX", "VMIN"]
BRANCH_COLS = ["F_BUS", "T_BUS", "BR_R", "BR_X", "BR_B", "RATE_A", "RATE_B", "RATE_C", "TAP",
               "SHIFT", "BR_STATUS", "ANGMIN", "ANGMAX"]
GEN_COLS = ["GEN_BUS", "PG", "QG", "QMAX", "QMIN", "VG", "MBASE", "GEN_STATUS", "PMAX", "PMIN"]
_MIN_COLS = {"bus": 13, "branch": 11, "gen": 10}


def _matrix(ppc: dict[str, Any], key: str, path: str | None) -> np.ndarray:
    if key not in ppc or ppc[key] is None:
        raise CaseFormatError(f"missing matrix 'mpc.{key}'", path=path, table=key)
    raw = ppc[key]
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        rows = list(raw)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                try:
                    float(v)
                except (TypeError, ValueError):
                    names = {"bus": BUS_COLS, "branch": BRANCH_COLS, "gen": GEN_COLS}[key]
                    col = names[j] if j < len(names) else f"column {j + 1}"
                    raise CaseFormatError(f"non-numeric value {v!r}", path=path, table=key,
                                          row=i, field=col) from None
        raise CaseFormatError("rows of different lengths", path=path, table=key) from None
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, _MIN_COLS[key])
    if arr.ndim != 2:
        raise CaseFormatError(f"expected a 2-D matrix, got {arr.ndim}-D", path=path, table=key)
    if arr.shape[1] < _MIN_COLS[key]:
        raise CaseFormatError(
            f"has {arr.shape[1]} columns, MATPOWER needs at least {_MIN_COLS[key]}",
            path=path, table=key)
    names = {"bus": BUS_COLS, "branch": BRANCH_COLS, "gen": GEN_COLS}[key]
    check = ~np.isfinite(arr[:, : _MIN_COLS[key]])
    if key == "gen":  # MBASE may be NaN in pandapower-made ppcs; QMAX/QMIN may be +-Inf
        check[:, 6] = False
        check[:, 3:5] &= ~np.isinf(arr[:, 3:5])
    bad = np.argwhere(check)
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise CaseFormatError(f"non-finite value {arr[i, j]}", path=path, table=key, row=i,
                              field=names[j])
    return arr


def _names(ppc: dict[str, Any], key: str, n: int) -> list[str] | None:
    raw = ppc.get(key)
    if raw is None:
        return None
    names = [str(np.asarray(v).ravel()[0]) if np.ndim(v) else str(v) for v in list(raw)]
    return names if len(names) == n else None


def grid_from_ppc(
    ppc: dict[str, Any],
    *,
    name: str,
    path: str | None = None,
    f_hz: float = 60.0,
    require_slack: bool = True,
) -> Grid:
    """Build a Grid from a PYPOWER/MATPOWER case dict.

    ``require_slack`` (MATPOWER files): a case must name a reference bus (type 3).
    """
    base_mva = ppc.get("baseMVA")
    try:
        base_mva = float(np.asarray(base_mva).ravel()[0])
    except (TypeError, ValueError, IndexError):
        raise CaseFormatError("missing or non-numeric 'mpc.baseMVA'", path=path,
                              field="baseMVA") from None
    bus = _matrix(ppc, "bus", path)
    branch = _matrix(ppc, "branch", path)
    gen = _matrix(ppc, "gen", path)

    numbers = bus[:, 0]
    cap = limits()["int_abs_max"]
    if np.any(np.abs(numbers) > cap):
        row = int(np.flatnonzero(np.abs(numbers) > cap)[0])
        raise CaseFormatError(f"bus number {numbers[row]:g} is out of range (|x| <= {cap})",
                              path=path, table="bus", row=row, field="BUS_I")
    if np.any(numbers != np.round(numbers)):
        row = int(np.flatnonzero(numbers != np.round(numbers))[0])
        raise CaseFormatError(f"bus number {numbers[row]} is not an integer", path=path,
                              table="bus", row=row, field="BUS_I")
    numbers = numbers.astype(np.int64)
    uniq, counts = np.unique(numbers, return_counts=True)
    if np.any(counts > 1):
        dup = int(uniq[counts > 1][0])
        row = int(np.flatnonzero(numbers == dup)[1])
        raise CaseFormatError(f"duplicate bus number {dup}", path=path, table="bus", row=row,
                              field="BUS_I")
    bad = np.flatnonzero(~np.isin(bus[:, 1], (1, 2, 3, 4)))
    if bad.size:
        raise CaseFormatError(f"bus type {bus[bad[0], 1]:g} is not 1, 2, 3 or 4", path=path,
                              table="bus", row=int(bad[0]), field="BUS_TYPE")
    types = bus[:, 1].astype(np.int64)
    if require_slack and not np.any(types == 3):
        raise CaseFormatError("no reference (slack) bus: no bus has BUS_TYPE 3", path=path,
                              table="bus", field="BUS_TYPE")
    pos = {int(n): i for i, n in enumerate(numbers)}

    def to_pos(values: np.ndarray, table: str, field: str) -> np.ndarray:
        out = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(values):
            p = pos.get(int(v)) if float(v).is_integer() else None
            if p is None:
                raise CaseFormatError(f"refers to unknown bus {v:g}", path=path, table=table,
                                      row=i, field=field)
            out[i] = p
        return out

    f = to_pos(branch[:, 0], "branch", "F_BUS")
    t = to_pos(branch[:, 1], "branch", "T_BUS")
    gbus = to_pos(gen[:, 0], "gen", "GEN_BUS")
    bus_names = _names(ppc, "bus_name", len(bus)) or [str(n) for n in numbers]
    nbr = len(branch)
    angmin = branch[:, 11] if branch.shape[1] > 11 else np.full(nbr, -360.0)
    angmax = branch[:, 12] if branch.shape[1] > 12 else np.full(nbr, 360.0)
    tap, shift = branch[:, 8], branch[:, 9]
    kv = bus[:, 9]
    if "branch_kind" in ppc:
        is_trafo = np.asarray(ppc["branch_kind"]) == "transformer"
    else:
        is_trafo = ((tap != 0) & (tap != 1)) | (shift != 0) | (kv[f] != kv[t])
    br_names = _names(ppc, "branch_name", nbr) or _branch_names(bus_names, f, t)
    g_pu = np.asarray(ppc.get("branch_g_pu", np.zeros(nbr)), dtype=np.float64)
    ng = len(gen)
    gen_names = _names(ppc, "gen_name", ng) or _gen_names(bus_names, gbus)
    mbase = np.where(np.isfinite(gen[:, 6]) & (gen[:, 6] > 0), gen[:, 6], base_mva)

    has_load = (bus[:, 2] != 0) | (bus[:, 3] != 0)
    lbus = np.flatnonzero(has_load)
    rate_a = branch[:, 5]
    notes: dict[str, Any] = {
        "source": path or name,
        "ratings": _rating_note(rate_a),
    }
    return Grid.from_columns(
        name=name,
        base_mva=base_mva,
        f_hz=f_hz,
        bus={
            "name": bus_names,
            "number": numbers,
            "type": types,
            "vn_kv": kv,
            "gs_mw": bus[:, 4],
            "bs_mvar": bus[:, 5],
            "vm_pu": bus[:, 7],
            "va_degree": bus[:, 8],
            "vmax_pu": bus[:, 11],
            "vmin_pu": bus[:, 12],
            "area": bus[:, 6],
            "zone": bus[:, 10],
            "in_service": types != 4,
        },
        branch={
            "name": br_names,
            "from_bus": f,
            "to_bus": t,
            "r_pu": branch[:, 2],
            "x_pu": branch[:, 3],
            "b_pu": branch[:, 4],
            "g_pu": g_pu,
            "rate_a_mva": rate_a,
            "rate_b_mva": branch[:, 6],
            "rate_c_mva": branch[:, 7],
            "rating_given": rate_a > 0,
            "tap": tap,
            "shift_degree": shift,
            "angmin_degree": angmin,
            "angmax_degree": angmax,
            "in_service": branch[:, 10] > 0,
            "kind": np.where(is_trafo, "transformer", "line"),
        },
        gen={
            "name": gen_names,
            "bus": gbus,
            "p_mw": gen[:, 1],
            "q_mvar": gen[:, 2],
            "qmax_mvar": gen[:, 3],
            "qmin_mvar": gen[:, 4],
            "vm_pu": gen[:, 5],
            "mbase_mva": mbase,
            "in_service": gen[:, 7] > 0,
            "pmax_mw": gen[:, 8],
            "pmin_mw": gen[:, 9],
        },
        load={
            "name": [f"load {bus_names[i]}" for i in lbus],
            "bus": lbus,
            "p_mw": bus[lbus, 2],
            "q_mvar": bus[lbus, 3],
        },
        notes=notes,
        path=path,
    )


def _rating_note(rate_a: np.ndarray) -> str:
    given = int(np.count_nonzero(rate_a > 0))
    if given == len(rate_a):
        return f"all {given} branch ratings (RATE_A) given by the case"
    return (f"{given} of {len(rate_a)} branch ratings given by the case; the others are "
            "0 (no limit) until derived with an explicit rule (blackout.grid.ratings)")


def _branch_names(bus_names: list[str], f: np.ndarray, t: np.ndarray) -> list[str]:
    seen: dict[tuple[int, int], int] = {}
    out = []
    for a, b in zip(f.tolist(), t.tolist(), strict=True):
        key = (min(a, b), max(a, b))
        seen[key] = seen.get(key, 0) + 1
        base = f"{bus_names[a]}-{bus_names[b]}"
        out.append(base if seen[key] == 1 else f"{base} ({seen[key]})")
    return out


def _gen_names(bus_names: list[str], gbus: np.ndarray) -> list[str]:
    seen: dict[int, int] = {}
    out = []
    for b in gbus.tolist():
        seen[b] = seen.get(b, 0) + 1
        out.append(f"gen {bus_names[b]}" + ("" if seen[b] == 1 else f" ({seen[b]})"))
    return out


def grid_to_ppc(grid: Grid) -> dict[str, Any]:
    """The grid as a MATPOWER case dict (version 2): bus, branch, gen matrices and names.

    Loads are summed per bus into PD/QD (out-of-service loads are dropped).
    """
    b, br, g = grid.bus, grid.branch, grid.gen
    nb = b.n
    pd = np.zeros(nb)
    qd = np.zeros(nb)
    live = grid.load["in_service"]
    np.add.at(pd, grid.load["bus"][live], grid.load["p_mw"][live])
    np.add.at(qd, grid.load["bus"][live], grid.load["q_mvar"][live])
    types = np.where(b["in_service"], b["type"], 4)
    bus = np.column_stack([
        b["number"], types, pd, qd, b["gs_mw"], b["bs_mvar"], b["area"], b["vm_pu"],
        b["va_degree"], b["vn_kv"], b["zone"], b["vmax_pu"], b["vmin_pu"],
    ]).astype(np.float64)
    num = b["number"]
    branch = np.column_stack([
        num[br["from_bus"]], num[br["to_bus"]], br["r_pu"], br["x_pu"], br["b_pu"],
        br["rate_a_mva"], br["rate_b_mva"], br["rate_c_mva"], br["tap"], br["shift_degree"],
        br["in_service"].astype(float), br["angmin_degree"], br["angmax_degree"],
    ]).astype(np.float64)
    gen = np.column_stack([
        num[g["bus"]], g["p_mw"], g["q_mvar"], g["qmax_mvar"], g["qmin_mvar"], g["vm_pu"],
        g["mbase_mva"], g["in_service"].astype(float), g["pmax_mw"], g["pmin_mw"],
    ]).astype(np.float64).reshape(g.n, 10)
    return {
        "version": "2",
        "baseMVA": grid.base_mva,
        "bus": bus,
        "branch": branch.reshape(br.n, 13),
        "gen": gen,
        "bus_name": list(b["name"]),
        "branch_name": list(br["name"]),
        "gen_name": list(g["name"]),
    }
