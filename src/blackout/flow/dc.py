"""DC power flow per island: B matrix from pandapower's ``makeBdc``, sparse LU (scipy ``splu``).

Linearised: flat voltage magnitudes, no losses, small angle differences. The
slack of each island takes the island's imbalance.
"""

from __future__ import annotations

import numpy as np
from pandapower.pypower.makeBdc import makeBdc
from scipy.sparse import csc_matrix, csr_matrix
from scipy.sparse.linalg import splu

from blackout.errors import CaseFormatError, ConvergenceError
from blackout.flow.assemble import assemble
from blackout.flow.balance import Participation, balance_islands
from blackout.flow.network import Network, build_network, cached, island_slack, submatrix
from blackout.flow.result import IslandResult, PowerFlowResult
from blackout.flow.state import FlowState
from blackout.grid.model import Grid
from blackout.grid.topology import island_labels

__all__ = ["run_dc", "dc_angle_solver", "dc_matrices", "shared_dispatch_state"]


def dc_matrices(grid: Grid, net: Network) -> tuple[csc_matrix, csc_matrix, np.ndarray, np.ndarray]:
    """Bbus, Bf (per live branch), Pbusinj, Pfinj (phase-shifter injections, pu)."""
    x = net.branch[:, 3]
    if np.any(x == 0):
        row = int(net.live[np.flatnonzero(x == 0)[0]])
        raise CaseFormatError("zero reactance: no DC power flow possible", table="branch",
                              row=row, field="x_pu")
    def build() -> tuple[csc_matrix, csc_matrix, np.ndarray, np.ndarray]:
        bbus, bf, pbusinj, pfinj = makeBdc(net.bus, net.branch, return_csr=False)[:4]
        return bbus, bf, np.asarray(pbusinj).ravel(), np.asarray(pfinj).ravel()

    return cached(grid, net, "bdc", build)


def _p_bus_pu(grid: Grid, net: Network, pbusinj: np.ndarray) -> np.ndarray:
    return (net.p_inj_mw - net.bus[:, 4]) / grid.base_mva - pbusinj


def dc_angle_solver(grid: Grid, net: Network):  # type: ignore[no-untyped-def]
    """A function ``(buses, ref_local) -> DC angles (radians)`` for islands of ``net``.

    Nothing is computed until the function is first called (it is a fallback)."""
    memo: dict[str, np.ndarray | csr_matrix] = {}

    def angles(buses: np.ndarray, ref_local: int) -> np.ndarray:
        if not memo:
            bbus, _, pbusinj, _ = dc_matrices(grid, net)
            memo["bcsr"] = _bcsr(grid, net, bbus)
            memo["p"] = _p_bus_pu(grid, net, pbusinj)
        p = memo["p"]
        assert isinstance(p, np.ndarray)
        return _solve_angles(grid, net, memo["bcsr"], buses, p[buses], ref_local)

    return angles


def _bcsr(grid: Grid, net: Network, bbus: csc_matrix) -> csr_matrix:
    return cached(grid, net, "bcsr", bbus.tocsr)


def _island_plan(grid: Grid, net: Network) -> list[tuple[np.ndarray, int | None]]:
    """(sorted buses, slack bus or None) per island; depends on the topology and the live
    generators only (cached by the caller)."""
    n_islands = int(net.labels.max()) + 1 if net.labels.size else 0
    order = np.argsort(net.labels, kind="stable")
    bounds = np.searchsorted(net.labels[order], np.arange(n_islands + 1))
    plan: list[tuple[np.ndarray, int | None]] = []
    for k in range(n_islands):
        buses = np.sort(order[bounds[k]:bounds[k + 1]])
        buses.flags.writeable = False
        plan.append((buses, island_slack(grid, net, buses)))
    return plan


def island_plan(grid: Grid, net: Network) -> list[tuple[np.ndarray, int | None]]:
    """Cached :func:`_island_plan` of ``net`` (per topology and set of live generators)."""
    return cached(grid, net, f"plan:{hash(net.gen_on.tobytes())}",
                  lambda: _island_plan(grid, net))


def _solve_angles(grid: Grid, net: Network, bcsr: csr_matrix, buses: np.ndarray,
                  p: np.ndarray, ref: int) -> np.ndarray:
    """Angles (rad) of one island from its reduced B matrix, LU-factorised once per topology."""
    n = p.size
    va = np.zeros(n)
    if n == 1:
        return va
    keep = np.r_[0:ref, ref + 1:n]

    def factorise():  # type: ignore[no-untyped-def]
        idx = buses[keep]
        return splu(csc_matrix(submatrix(bcsr, idx)))

    lu = cached(grid, net, f"lu:{buses[0]}:{buses.size}:{ref}", factorise)
    va[keep] = lu.solve(p[keep])
    return va


def run_dc(grid: Grid, state: FlowState | None = None, *, strict: bool = False) -> PowerFlowResult:
    """DC power flow of ``grid`` in ``state`` (default: the base case).

    Each island with generation is solved with its own slack (the case's reference
    bus, else its largest generator); islands without generation are de-energised.
    Angles are relative to each island's slack (0 degrees there).
    """
    state = state or FlowState.of(grid)
    net = build_network(grid, state)
    bbus, bf, pbusinj, pfinj = dc_matrices(grid, net)
    bcsr = _bcsr(grid, net, bbus)
    p = _p_bus_pu(grid, net, pbusinj)
    va = np.zeros(grid.bus.n)
    islands: list[IslandResult] = []
    slacks: dict[int, int] = {}
    plan = island_plan(grid, net)
    n_islands = len(plan)
    on = net.labels >= 0
    load_isl = np.bincount(net.labels[on], weights=net.load_p_bus_mw[on], minlength=n_islands)
    inj_isl = np.bincount(net.labels[on], weights=net.p_inj_mw[on], minlength=n_islands)
    for k, (buses, slack) in enumerate(plan):
        load_mw = float(load_isl[k])
        gen_mw = float(inj_isl[k]) + load_mw
        if slack is None:
            islands.append(IslandResult(k, buses.size, 0.0, load_mw, None, False, False, 0,
                                        "no generation: de-energised"))
            continue
        ref = int(np.searchsorted(buses, slack))
        try:
            va[buses] = _solve_angles(grid, net, bcsr, buses, p[buses], ref)
        except RuntimeError as exc:  # singular matrix
            islands.append(IslandResult(k, buses.size, gen_mw, load_mw,
                                        str(grid.bus["name"][slack]), True, False, 1,
                                        f"singular B matrix ({exc})"))
            if strict:
                raise ConvergenceError(f"case {grid.name}: island {k}: singular B matrix") from None
            continue
        slacks[k] = slack
        islands.append(IslandResult(k, buses.size, gen_mw, load_mw,
                                    str(grid.bus["name"][slack]), True, True, 1))
    energized = np.isin(net.labels, list(slacks)) & (net.labels >= 0)
    v = np.where(energized, np.exp(1j * va), 0.0)
    pf_live = (bf @ va + pfinj) * grid.base_mva
    return assemble(grid, net, v, islands, slacks, mode="dc", p_from_live_mw=pf_live)


def shared_dispatch_state(grid: Grid, rule: Participation = "headroom",
                          state: FlowState | None = None) -> FlowState:
    """``state`` (default: the base case) with each island's imbalance shared by
    participation (:func:`blackout.flow.balance.balance_islands`): generators start from
    the case's dispatch ``gen.p_mw`` and move within [pmin_mw, pmax_mw] to meet their
    island's load plus shunt conductance; a shortfall is shed from the island's loads.
    Its DC flow (:func:`run_dc`) is the base case of every fast study and cascade."""
    st = (state or FlowState.of(grid)).copy()
    labels = island_labels(grid, branch_in=st.branch_in, bus_in=st.bus_in)
    lab = np.where(labels >= 0, labels, int(labels.max(initial=-1)) + 1
                   + np.arange(labels.size))  # buses out of service: islands of their own
    nb = grid.bus.n
    gbus, lbus = np.asarray(grid.gen["bus"]), np.asarray(grid.load["bus"])
    gen_on = st.gen_in & st.bus_in[gbus]
    load_bus = np.bincount(lbus, weights=np.where(st.bus_in[lbus], st.load_p_mw, 0.0),
                           minlength=nb)
    gs = np.where(st.bus_in, np.asarray(grid.bus["gs_mw"], dtype=float), 0.0)
    bal = balance_islands(rule, lab, gbus, gen_on, np.asarray(grid.gen["p_mw"], dtype=float),
                          np.asarray(grid.gen["pmin_mw"], dtype=float),
                          np.asarray(grid.gen["pmax_mw"], dtype=float), load_bus, gs,
                          np.asarray(grid.gen["droop_pu"], dtype=float))
    st.gen_p_mw = np.where(gen_on, bal.gen_p_mw, st.gen_p_mw)
    st.load_p_mw = st.load_p_mw * bal.served[lab[lbus]]
    return st
