"""AC power flow: Newton-Raphson per island through lightsim2grid's KLU solver.

The admittance matrix comes from pandapower's ``makeYbus``; each island is
solved alone with its own slack (see :func:`blackout.flow.network.island_slack`);
an island without generation is de-energised. No reactive-power limits are
enforced (as in pandapower's ``runpp`` default).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix

from blackout.errors import ConvergenceError
from blackout.flow.dc import dc_angle_solver, island_plan
from blackout.flow.network import (
    Network,
    admittance,
    build_network,
    cached,
    island_slack,
    submatrix,
)
from blackout.flow.result import IslandResult, PowerFlowResult
from blackout.flow.state import FlowState
from blackout.flow.summary import assemble
from blackout.grid.model import Grid

__all__ = ["run_ac"]


def _solver():  # type: ignore[no-untyped-def]
    try:
        from lightsim2grid.algorithm import NRSing_KLU

        return NRSing_KLU()
    except ImportError:  # pragma: no cover - KLU is in every lightsim2grid wheel
        from lightsim2grid.algorithm import NRSing_SparseLU

        return NRSing_SparseLU()


def run_ac(
    grid: Grid,
    state: FlowState | None = None,
    *,
    strict: bool = False,
    tolerance_mva: float = 1e-8,
    max_iteration: int = 30,
    init: str = "dc",
) -> PowerFlowResult:
    """AC power flow of ``grid`` in ``state`` (default: the base case).

    Parameters
    ----------
    strict : raise :class:`ConvergenceError` when an energised island does not converge.
    tolerance_mva : Newton-Raphson mismatch tolerance (per unit of the system base, as in
        pandapower's ``tolerance_mva``).
    max_iteration : iteration limit per island.
    init : "dc" (flat start, then a retry from DC-power-flow angles if Newton-Raphson fails;
        the converged solution does not depend on it) or "flat" (no retry).

    Returns
    -------
    PowerFlowResult with bus voltages (pu, degrees), branch flows (MW/Mvar at both ends),
    generator outputs and one :class:`IslandResult` per island.
    """
    state = state or FlowState.of(grid)
    net = build_network(grid, state)
    ybus, yf, yt = admittance(grid, net)
    v = np.zeros(grid.bus.n, dtype=complex)
    islands: list[IslandResult] = []
    slacks: dict[int, int] = {}
    ycsr = ybus
    angles = dc_angle_solver(grid, net) if init == "dc" else None
    for k, (buses, _) in enumerate(island_plan(grid, net)):
        res, v_isl, slack = _solve_island(grid, net, ycsr, buses, k, tolerance_mva,
                                          max_iteration, angles)
        islands.append(res)
        if res.energized and res.converged:
            v[buses] = v_isl
            slacks[k] = slack
        if strict and res.energized and not res.converged:
            raise ConvergenceError(f"case {grid.name}: island {k} did not converge: {res.reason}")
    return assemble(grid, net, v, islands, slacks, yf=yf, yt=yt, mode="ac")


def _island_setup(grid: Grid, net: Network, ybus: csr_matrix, buses: np.ndarray
                  ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, csc_matrix,
                             np.ndarray] | None:
    """(slack, ref, pv, pq, vm0, Ybus of the island (CSC), slack weights); None without
    generation. Depends on the topology and the live generators only: cached."""
    slack = island_slack(grid, net, buses)
    if slack is None:
        return None
    local = np.full(grid.bus.n, -1, dtype=np.int64)
    local[buses] = np.arange(buses.size)
    gen_bus = grid.gen["bus"][net.gen_on]
    has_gen = np.zeros(grid.bus.n, dtype=bool)
    has_gen[gen_bus] = True
    is_pv = has_gen[buses] & (grid.bus["type"][buses] != 1)
    ref = np.array([local[slack]], dtype=np.int32)
    is_pv[ref] = False
    pv = np.flatnonzero(is_pv).astype(np.int32)
    is_pq = np.ones(buses.size, dtype=bool)
    is_pq[pv] = False
    is_pq[ref] = False
    pq = np.flatnonzero(is_pq).astype(np.int32)
    vm0 = np.ones(buses.size)
    # voltage setpoint: the first live generator at each PV/ref bus (as in PYPOWER)
    gens = np.flatnonzero(net.gen_on)
    gl = local[grid.gen["bus"][gens]]
    keep = gl >= 0
    gl, gens = gl[keep], gens[keep]
    first_bus, first_idx = np.unique(gl, return_index=True)
    regulated = np.zeros(buses.size, dtype=bool)
    regulated[pv] = True
    regulated[ref] = True
    sel = regulated[first_bus]
    vm0[first_bus[sel]] = grid.gen["vm_pu"][gens[first_idx[sel]]]
    y = csc_matrix(ybus) if buses.size == grid.bus.n else csc_matrix(submatrix(ybus, buses))
    weights = np.zeros(buses.size)
    weights[ref] = 1.0
    return slack, ref, pv, pq, vm0, y, weights


def _solve_island(
    grid: Grid, net: Network, ybus: csr_matrix, buses: np.ndarray, k: int,
    tol: float, max_it: int, angles: Callable[[np.ndarray, int], np.ndarray] | None,
) -> tuple[IslandResult, np.ndarray, int]:
    gen_mw = float(net.p_inj_mw[buses].sum() + net.load_p_bus_mw[buses].sum())
    load_mw = float(net.load_p_bus_mw[buses].sum())
    gen_key = hash(net.gen_on.tobytes())
    setup = cached(grid, net, f"acisl:{buses[0]}:{buses.size}:{gen_key}",
                   lambda: _island_setup(grid, net, ybus, buses))
    if setup is None:
        return (IslandResult(k, buses.size, 0.0, load_mw, None, False, False, 0,
                             "no generation: de-energised"), np.zeros(buses.size), -1)
    slack, ref, pv, pq, vm0, y, weights = setup
    sbus = (net.p_inj_mw[buses] + 1j * net.q_inj_mvar[buses]) / grid.base_mva
    # one solver object per island topology: KLU's symbolic analysis is reused between calls
    solver = cached(grid, net, f"nr:{buses[0]}:{buses.size}:{gen_key}", _solver)
    ok = solver.solve(y, vm0.astype(complex), sbus, ref, weights, pv, pq, max_it, tol)
    iters = int(solver.get_nb_iter())
    if not ok and angles is not None and buses.size > 1:
        # flat start failed: retry from DC angles (pandapower's "dc" initialisation)
        v0 = vm0 * np.exp(1j * angles(buses, int(ref[0])))
        solver = _solver()
        ok = solver.solve(y, v0, sbus, ref, weights, pv, pq, max_it, tol)
        iters += int(solver.get_nb_iter())
    name = str(grid.bus["name"][slack])
    if not ok:
        reason = f"Newton-Raphson did not converge in {iters} iterations ({solver.get_error()})"
        return (IslandResult(k, buses.size, gen_mw, load_mw, name, True, False, iters, reason),
                np.zeros(buses.size), slack)
    vres = np.asarray(solver.get_Vm()) * np.exp(1j * np.asarray(solver.get_Va()))
    return (IslandResult(k, buses.size, gen_mw, load_mw, name, True, True, iters),
            vres, slack)
