"""AC-CFM's voltage-collapse load shedding: an AC OPF with dispatchable loads
(``accfm.m`` apply_vcls, lines 725-818, and apply_opf, lines 820-899), solved with
pandapower's PYPOWER port of MATPOWER's ``runopf`` (``pandapower.pypower.opf.opf``,
the PIPS interior-point solver, MATPOWER's MIPS).

The island is written as a MATPOWER case (internal numbering: only its buses, its
in-service branches and units) and changed as apply_vcls changes ``network_disp``:

- line 740: no branch limits (RATE_A = 0); line 743: VMIN = 0.2 pu everywhere;
- lines 747-751: with no reference bus left (every unit held by O/UXL), VMAX = the
  present voltage and each held unit's Q range shrinks to the limit it sits at;
- line 754: add_reference_bus(network_disp, 1): the reference bus kept if it has a unit,
  else the bus with the most pmax (any type);
- line 757: MATPOWER's ``load2disp``: every bus with PD > 0 becomes a dispatchable load
  (a unit with PMIN = -PD, PMAX = 0, QG range [min(0, -QD), max(0, -QD)], constant power
  factor, linear cost VOLL = 5000 $/MWh, load2disp's default).

Unit costs: blackout's case format carries no cost data. Every unit gets MATPOWER
case39's own ``gencost`` (0.01 $/MW^2h, 0.3 $/MWh, 0.2 $/h, the same for all ten units),
so on case39 the OPF is AC-CFM's; on another case equal costs are an assumption (stated
in the output by the caller).

Not followed: the retries of lines 763-800 (PMIN set to 0, then shunts removed). Units
with pmin > 0 are not retried with pmin = 0 and shunts are never removed; where the OPF
fails the island is tripped (line 803), as AC-CFM does when its retries fail too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blackout.grid.io.ppc import grid_to_ppc
from blackout.grid.model import Grid

__all__ = ["VclsOpf", "vcls_opf", "VOLL", "GENCOST"]

#: MATPOWER load2disp.m: default value of lost load, $/MWh
VOLL = 5000.0
#: MATPOWER case39.m gencost (polynomial c2, c1, c0), the same for every unit
GENCOST = (0.01, 0.3, 0.2)


@dataclass(frozen=True)
class VclsOpf:
    """The OPF's answer for one island (arrays over the island's buses and units).

    served_p_mw, served_q_mvar : demand each island bus keeps (MW, Mvar).
    gen_p_mw, gen_q_mvar, gen_vm_pu : the units' outputs and voltage setpoints.
    v : complex bus voltages (pu). ref : the reference bus (grid position).
    """

    served_p_mw: np.ndarray
    served_q_mvar: np.ndarray
    gen_p_mw: np.ndarray
    gen_q_mvar: np.ndarray
    gen_vm_pu: np.ndarray
    v: np.ndarray
    ref: int


def _pad(m: np.ndarray, cols: int) -> np.ndarray:
    """``m`` with zero columns up to pandapower's PYPOWER width ``cols``."""
    return np.hstack([m, np.zeros((m.shape[0], max(cols - m.shape[1], 0)))])


def _reference(grid: Grid, gens: np.ndarray, ref: set[int]) -> int:
    """add_reference_bus(network, 1) (accfm.m lines 901-969) on one island."""
    gbus = np.asarray(grid.gen["bus"])[gens]
    kept = sorted(set(gbus.tolist()) & ref)
    if len(kept) == 1:
        return int(kept[0])
    pmax = np.bincount(gbus, weights=np.asarray(grid.gen["pmax_mw"], dtype=float)[gens],
                       minlength=grid.bus.n)
    cand = np.unique(gbus)
    return int(cand[np.argmax(pmax[cand])])


def vcls_opf(grid: Grid, buses: np.ndarray, branches: np.ndarray, gens: np.ndarray,
             pd_mw: np.ndarray, qd_mvar: np.ndarray, v: np.ndarray, gen_p_mw: np.ndarray,
             gen_q_mvar: np.ndarray, gen_vm_pu: np.ndarray, held: dict[int, float],
             ref: set[int], no_slack: bool) -> VclsOpf | None:
    """Run accfm.m's VCLS OPF on the island ``buses`` (grid positions) with its in-service
    ``branches`` and ``gens``; ``pd_mw``/``qd_mvar`` its demand per bus, ``v`` its last
    complex voltages (pu), ``gen_*`` per unit of ``gens``, ``held`` the O/UXL holds
    (bus -> Mvar), ``ref`` the reference buses, ``no_slack`` when O/UXL left no PV bus.
    Returns None when the OPF does not converge."""
    from pandapower.pypower.idx_brch import branch_cols
    from pandapower.pypower.idx_bus import bus_cols
    from pandapower.pypower.idx_gen import gen_cols
    from pandapower.pypower.opf import opf
    from pandapower.pypower.ppoption import ppoption

    full = grid_to_ppc(grid)
    local = np.full(grid.bus.n, -1, dtype=np.int64)
    local[buses] = np.arange(buses.size)
    bus = np.array(full["bus"][buses], dtype=float)
    bus[:, 0] = np.arange(buses.size)
    bus[:, 1] = 1.0
    bus[:, 2], bus[:, 3] = pd_mw, qd_mvar
    vm = np.abs(v)
    vm = np.where(vm > 0.3, vm, 1.0)
    bus[:, 7], bus[:, 8] = vm, np.degrees(np.angle(v))
    bus[:, 12] = 0.2                                       # line 743
    if no_slack:                                           # lines 747-751
        bus[:, 11] = np.maximum(vm, bus[:, 12])
    gbus = np.asarray(grid.gen["bus"])[gens]
    bus[local[np.unique(gbus)], 1] = 2.0
    ref_bus = _reference(grid, gens, set() if no_slack else ref)   # line 754
    bus[local[ref_bus], 1] = 3.0
    br = np.array(full["branch"][branches], dtype=float)
    br[:, 0], br[:, 1] = local[np.asarray(grid.branch["from_bus"])[branches]], \
        local[np.asarray(grid.branch["to_bus"])[branches]]
    br[:, 5:8] = 0.0                                       # line 740
    gen = np.array(full["gen"][gens], dtype=float)
    gen[:, 0] = local[gbus]
    gen[:, 1], gen[:, 2], gen[:, 5], gen[:, 7] = gen_p_mw, gen_q_mvar, gen_vm_pu, 1.0
    if no_slack:
        for i, b in enumerate(gbus.tolist()):
            if b in held:
                lim = gen[i, 3] if gen_q_mvar[i] >= gen[i, 3] else gen[i, 4]
                gen[i, 3] = gen[i, 4] = lim
    loaded = np.flatnonzero(pd_mw > 0)                     # load2disp.m
    dl = np.zeros((loaded.size, 10))
    dl[:, 0] = loaded
    dl[:, 1], dl[:, 2] = -pd_mw[loaded], -qd_mvar[loaded]
    dl[:, 3], dl[:, 4] = np.maximum(0, -qd_mvar[loaded]), np.minimum(0, -qd_mvar[loaded])
    dl[:, 5], dl[:, 6], dl[:, 7] = vm[loaded], 100.0, 1.0
    dl[:, 8], dl[:, 9] = 0.0, -pd_mw[loaded]
    bus[loaded, 2:4] = 0.0
    c2, c1, c0 = GENCOST
    cost = np.vstack([np.tile([2, 0, 0, 3, c2, c1, c0], (gens.size, 1)),
                      np.tile([2, 0, 0, 2, VOLL, 0, 0], (loaded.size, 1))]).astype(float)
    gen_all = _pad(np.vstack([gen, dl]), gen_cols)
    gen_all[:, 16:20] = np.inf                             # ramp rates (load2disp.m)
    ppc = {"baseMVA": grid.base_mva, "bus": _pad(bus, bus_cols), "branch": _pad(br, branch_cols),
           "gen": _pad(gen_all, gen_cols), "gencost": cost, "version": "2"}
    try:  # MATPOWER's MIPS default start (opf.start 0): an interior point, not the case
        # OPF_FLOW_LIM 2 (pandapower's own choice): with no limited branch its Hessian
        # path for apparent-power limits breaks on an empty matrix; no limit binds anyway
        res = opf(ppc, ppoption(VERBOSE=0, OUT_ALL=0, INIT="flat", OPF_FLOW_LIM=2))
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        return None
    if not res["success"]:
        return None
    out_gen = np.asarray(res["gen"], dtype=float)
    out_bus = np.asarray(res["bus"], dtype=float)
    served_p = np.array(pd_mw, dtype=float)
    served_q = np.array(qd_mvar, dtype=float)
    d = out_gen[gens.size:]
    served_p[loaded], served_q[loaded] = -d[:, 1], -d[:, 2]
    g = out_gen[: gens.size]
    return VclsOpf(served_p, served_q, g[:, 1], g[:, 2], g[:, 5],
                   out_bus[:, 7] * np.exp(1j * np.radians(out_bus[:, 8])), ref_bus)
