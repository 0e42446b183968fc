"""AC power flow: Newton-Raphson per island through lightsim2grid's KLU solver.

The admittance matrix comes from pandapower's ``makeYbus``; each island is
solved alone with its own slack (see :func:`blackout.flow.network.island_slack`);
an island without generation is de-energised. The largest energised island goes
through a lightsim2grid ``LSGrid`` kept per grid (:mod:`blackout.flow.lsgrid`),
which reuses KLU's symbolic analysis between calls on one topology; its answer is
checked against our own equations and falls back to the per-island solver. No
reactive-power limits are enforced (as in pandapower's ``runpp`` default).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix

from blackout.errors import ConvergenceError
from blackout.flow.dc import dc_angle_solver, island_plan
from blackout.flow.lsgrid import IslandSetup, ls_model
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
    solver: str = "auto",
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
    solver : "auto" (the largest energised island through one lightsim2grid LSGrid kept per
        grid, see :mod:`blackout.flow.lsgrid`; the other islands, and that one whenever the
        LSGrid does not converge or its answer fails our own equations, through
        lightsim2grid's ``NRSing_KLU`` on our Ybus) or "island" (every island through
        ``NRSing_KLU``). Both give the same solution.

    Returns
    -------
    PowerFlowResult with bus voltages (pu, degrees), branch flows (MW/Mvar at both ends),
    generator outputs and one :class:`IslandResult` per island.
    """
    if solver not in ("auto", "island"):
        raise ValueError(f"solver must be 'auto' or 'island', not {solver!r}")
    state = state or FlowState.of(grid)
    net = build_network(grid, state)
    ybus, yf, yt = admittance(grid, net)
    v = np.zeros(grid.bus.n, dtype=complex)
    islands: list[IslandResult] = []
    slacks: dict[int, int] = {}
    angles = dc_angle_solver(grid, net) if init == "dc" else None
    plan = island_plan(grid, net)
    main = _main_island(plan) if solver == "auto" else -1
    for k, (buses, _) in enumerate(plan):
        res, v_isl, slack = _solve_island(grid, net, ybus, buses, k, tolerance_mva,
                                          max_iteration, angles, reuse=k == main)
        islands.append(res)
        if res.energized and res.converged:
            v[buses] = v_isl
            slacks[k] = slack
        if strict and res.energized and not res.converged:
            raise ConvergenceError(f"case {grid.name}: island {k} did not converge: {res.reason}")
    return assemble(grid, net, v, islands, slacks, yf=yf, yt=yt, mode="ac")


def _main_island(plan: list[tuple[np.ndarray, int | None]]) -> int:
    """The energised island with the most buses (solved through the reused LSGrid), -1 if
    none has two buses or more."""
    sizes = [b.size if slack is not None else 0 for b, slack in plan]
    if not sizes or max(sizes) < 2:
        return -1
    return int(np.argmax(sizes))


def _island_setup(grid: Grid, net: Network, ybus: csr_matrix, buses: np.ndarray
                  ) -> IslandSetup | None:
    """Slack, PV/PQ split, setpoint magnitudes and Ybus (CSC) of one island; None without
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
    return IslandSetup(buses, slack, ref, pv, pq, vm0, y)


def _solve_island(
    grid: Grid, net: Network, ybus: csr_matrix, buses: np.ndarray, k: int,
    tol: float, max_it: int, angles: Callable[[np.ndarray, int], np.ndarray] | None,
    *, reuse: bool = False,
) -> tuple[IslandResult, np.ndarray, int]:
    """One island: (summary, complex voltages of ``buses`` in pu, slack bus). ``reuse``:
    try the grid's LSGrid first (see :mod:`blackout.flow.lsgrid`)."""
    gen_mw = float(net.p_inj_mw[buses].sum() + net.load_p_bus_mw[buses].sum())
    load_mw = float(net.load_p_bus_mw[buses].sum())
    gen_key = hash(net.gen_on.tobytes())
    setup = cached(grid, net, f"acisl:{buses[0]}:{buses.size}:{gen_key}",
                   lambda: _island_setup(grid, net, ybus, buses))
    if setup is None:
        return (IslandResult(k, buses.size, 0.0, load_mw, None, False, False, 0,
                             "no generation: de-energised"), np.zeros(buses.size), -1)
    slack, ref, pv, pq, vm0, y = setup.slack, setup.ref, setup.pv, setup.pq, setup.vm0, setup.y
    sbus = (net.p_inj_mw[buses] + 1j * net.q_inj_mvar[buses]) / grid.base_mva
    name = str(grid.bus["name"][slack])
    if reuse:
        solved = ls_model(grid).solve_island(net, setup, sbus, tol, max_it)
        if solved is not None:
            return (IslandResult(k, buses.size, gen_mw, load_mw, name, True, True, solved[1]),
                    solved[0], slack)
    weights = np.zeros(buses.size)
    weights[ref] = 1.0
    # one solver object per island topology
    solver = cached(grid, net, f"nr:{buses[0]}:{buses.size}:{gen_key}", _solver)
    ok = solver.solve(y, vm0.astype(complex), sbus, ref, weights, pv, pq, max_it, tol)
    iters = int(solver.get_nb_iter())
    if not ok and angles is not None and buses.size > 1:
        # flat start failed: retry from DC angles (pandapower's "dc" initialisation)
        v0 = vm0 * np.exp(1j * angles(buses, int(ref[0])))
        solver = _solver()
        ok = solver.solve(y, v0, sbus, ref, weights, pv, pq, max_it, tol)
        iters += int(solver.get_nb_iter())
    if not ok:
        reason = f"Newton-Raphson did not converge in {iters} iterations ({solver.get_error()})"
        return (IslandResult(k, buses.size, gen_mw, load_mw, name, True, False, iters, reason),
                np.zeros(buses.size), slack)
    vres = np.asarray(solver.get_Vm()) * np.exp(1j * np.asarray(solver.get_Va()))
    return (IslandResult(k, buses.size, gen_mw, load_mw, name, True, True, iters),
            vres, slack)
