"""AC power flow: Newton-Raphson per island through lightsim2grid's KLU solver.

The admittance matrix comes from pandapower's ``makeYbus``; each island is
solved alone with its own slack (see :func:`blackout.flow.network.island_slack`);
an island without generation is de-energised. The largest energised island goes
through a lightsim2grid ``LSGrid`` kept per grid (:mod:`blackout.flow.lsgrid`),
which reuses KLU's symbolic analysis between calls on one topology; its answer is
checked against our own equations and falls back to the per-island solver.

As MATPOWER's ``runpf``: Newton-Raphson starts from the case's stored voltages (``bus.vm_pu``
and ``bus.va_degree``, the generators' setpoints at PV and reference buses; ``init="flat"``
for a flat start). Reactive-power limits are enforced on request (``q_limits=True``, as
MATPOWER's ``ENFORCE_Q_LIMS`` = 1 and pandapower's ``enforce_q_lims``): every PV bus whose
generators' reactive output lies outside the sum of their ``[qmin_mvar, qmax_mvar]`` becomes
a PQ bus at the limit it crossed (all crossings at once, MATPOWER's ENFORCE_Q_LIMS = 1),
and the island is solved again from the last solution (MATPOWER's ``runpf`` sets V0 to
the solved voltages before each re-solve; starting again from the case's voltages instead
fails on venezuela2019 with two Guri-Malena circuits out, where the re-solve from the last
solution converges), until none does. The reference bus keeps its voltage as in pandapower's
``enforce_q_lims`` (MATPOWER would make it PQ and pick a new reference). Off by default, as
in pandapower's ``runpp``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix

from blackout.errors import ConvergenceError
from blackout.flow.assemble import assemble
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
    init: str = "case",
    solver: str = "auto",
    q_limits: bool = False,
    v_start: np.ndarray | None = None,
    held_q: dict[int, float] | None = None,
) -> PowerFlowResult:
    """AC power flow of ``grid`` in ``state`` (default: the base case).

    Parameters
    ----------
    strict : raise :class:`ConvergenceError` when an energised island does not converge.
    tolerance_mva : Newton-Raphson mismatch tolerance (per unit of the system base, as in
        pandapower's ``tolerance_mva``).
    max_iteration : iteration limit per island.
    init : "case" (MATPOWER's start: the case's stored voltages, the generators' setpoints
        at PV/ref buses; then a flat start and a start from DC angles if Newton-Raphson
        fails), "dc" (flat start, then the DC retry) or "flat" (flat start, no retry). The
        converged solution does not depend on it where the equations have one solution
        near the operating point.
    v_start : complex bus voltages (pu) to start Newton-Raphson from instead of the case's
        stored ones (a warm start: a cascade passes its previous solution); buses below
        0.3 pu there start from the case. The fallbacks (flat, DC angles) are unchanged.
    held_q : PV buses the caller holds as PQ buses at a given generator reactive output
        (bus position -> Mvar), e.g. AC-CFM's once-per-round over/under-excitation step.
    q_limits : enforce the generators' reactive limits (PV -> PQ switching, see the module
        docstring).
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
    if init not in ("case", "dc", "flat"):
        raise ValueError(f"init must be 'case', 'dc' or 'flat', not {init!r}")
    state = state or FlowState.of(grid)
    net = build_network(grid, state)
    ybus, yf, yt = admittance(grid, net)
    angles = dc_angle_solver(grid, net) if init in ("dc", "case") else None
    v_case = _case_voltages(grid) if init == "case" else None
    if v_start is not None:  # a warm start (e.g. the previous solution in a cascade)
        v_start = np.asarray(v_start, dtype=complex)
        v_case = np.where(np.abs(v_start) > 0.3, v_start,
                          v_case if v_case is not None else 1.0 + 0j)
    plan = island_plan(grid, net)
    main = main_island(plan) if solver == "auto" else -1
    # PV buses held at a reactive limit: bus -> Mvar (``held_q``: held by the caller)
    at_limit: dict[int, float] = dict(held_q or {})
    for _ in range(grid.bus.n + 1):
        v = np.zeros(grid.bus.n, dtype=complex)
        islands: list[IslandResult] = []
        slacks: dict[int, int] = {}
        for k, (buses, _) in enumerate(plan):
            res, v_isl, slack = _solve_island(grid, net, ybus, buses, k, tolerance_mva,
                                              max_iteration, angles, reuse=k == main,
                                              v_case=v_case, at_limit=at_limit)
            islands.append(res)
            if res.energized and res.converged:
                v[buses] = v_isl
                slacks[k] = slack
        if not q_limits:
            break
        crossed = _q_limit_crossings(grid, net, ybus, v, slacks, at_limit)
        if not crossed:
            break
        at_limit.update(crossed)
        # as MATPOWER's runpf: re-solve from the last solution (V0 = V)
        v_case = np.where(np.abs(v) > 0.3, v, v_case if v_case is not None else 1.0 + 0j)
    for k, res in enumerate(islands):
        if strict and res.energized and not res.converged:
            raise ConvergenceError(f"case {grid.name}: island {k} did not converge: {res.reason}")
    return assemble(grid, net, v, islands, slacks, yf=yf, yt=yt, mode="ac")


def _case_voltages(grid: Grid) -> np.ndarray:
    """The case's stored bus voltages (pu, complex; magnitude 1 where none is stored)."""
    vm = np.nan_to_num(np.asarray(grid.bus["vm_pu"], dtype=float), nan=1.0)
    vm = np.where(vm > 0, vm, 1.0)
    va = np.radians(np.nan_to_num(np.asarray(grid.bus["va_degree"], dtype=float)))
    return vm * np.exp(1j * va)


def _held_at_limit(grid: Grid, net: Network, buses: np.ndarray, setup: IslandSetup,
                   at_limit: dict[int, float] | None
                   ) -> tuple[IslandSetup, np.ndarray] | None:
    """The island's setup with its PV buses in ``at_limit`` made PQ buses, and the scheduled
    reactive injection per island bus (Mvar: the generators at their limit less the load
    there); None when none of its buses is held."""
    if not at_limit:
        return None
    local = {int(b): i for i, b in enumerate(buses.tolist())}
    held = np.array([local[b] for b in at_limit if b in local], dtype=np.int32)
    if held.size == 0:
        return None
    held = held[np.isin(held, setup.pv)]
    if held.size == 0:
        return None
    pv = np.setdiff1d(setup.pv, held).astype(np.int32)
    pq = np.union1d(setup.pq, held).astype(np.int32)
    q = np.array(net.q_inj_mvar[buses], dtype=float)
    gbus = np.asarray(grid.gen["bus"])
    q_case = np.bincount(gbus[net.gen_on], weights=np.asarray(grid.gen["q_mvar"],
                                                              dtype=float)[net.gen_on],
                         minlength=grid.bus.n)[buses]
    for i in held.tolist():  # load at the bus = case gen Q - scheduled injection
        q[i] = at_limit[int(buses[i])] - (q_case[i] - q[i])
    return replace(setup, pv=pv, pq=pq), q


#: a generator bus crosses its reactive limit by more than this, Mvar
Q_LIMIT_TOL_MVAR = 1e-4


def _q_limit_crossings(grid: Grid, net: Network, ybus: csr_matrix, v: np.ndarray,
                       slacks: dict[int, int], at_limit: dict[int, float]) -> dict[int, float]:
    """PV buses (not a reference, not yet at a limit) of the converged islands whose
    generators' reactive output (computed injection plus load, Mvar) lies outside the sum
    of their limits: bus -> the limit crossed (Mvar)."""
    gbus = np.asarray(grid.gen["bus"])
    on = net.gen_on & (np.asarray(grid.bus["type"])[gbus] != 1)
    nb = grid.bus.n
    qmax = np.bincount(gbus[on], weights=np.asarray(grid.gen["qmax_mvar"], dtype=float)[on],
                       minlength=nb)
    qmin = np.bincount(gbus[on], weights=np.asarray(grid.gen["qmin_mvar"], dtype=float)[on],
                       minlength=nb)
    regulated = np.bincount(gbus[on], minlength=nb) > 0
    q_load = np.bincount(np.asarray(grid.load["bus"]), weights=net.state.load_q_mvar,
                         minlength=nb)
    q_gen = (v * np.conj(ybus @ v)).imag * grid.base_mva + q_load
    live = np.isin(net.labels, list(slacks)) & (net.labels >= 0) & (v != 0)
    live[list(slacks.values())] = False
    if at_limit:
        live[list(at_limit)] = False
    cand = np.flatnonzero(live & regulated)
    out: dict[int, float] = {}
    for b in cand.tolist():
        if q_gen[b] > qmax[b] + Q_LIMIT_TOL_MVAR:
            out[b] = float(qmax[b])
        elif q_gen[b] < qmin[b] - Q_LIMIT_TOL_MVAR:
            out[b] = float(qmin[b])
    return out


def main_island(plan: list[tuple[np.ndarray, int | None]]) -> int:
    """The energised island with the most buses (solved through the reused LSGrid), -1 if
    none has two buses or more."""
    sizes = [b.size if slack is not None else 0 for b, slack in plan]
    if not sizes or max(sizes) < 2:
        return -1
    return int(np.argmax(sizes))


def island_setup(grid: Grid, net: Network, ybus: csr_matrix, buses: np.ndarray
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
    *, reuse: bool = False, v_case: np.ndarray | None = None,
    at_limit: dict[int, float] | None = None,
) -> tuple[IslandResult, np.ndarray, int]:
    """One island: (summary, complex voltages of ``buses`` in pu, slack bus). ``reuse``:
    try the grid's LSGrid first (see :mod:`blackout.flow.lsgrid`). ``v_case``: the case's
    voltages per grid bus, the first start tried. ``at_limit``: PV buses held at a reactive
    limit (bus -> generators' Mvar), solved as PQ buses."""
    gen_mw = float(net.p_inj_mw[buses].sum() + net.load_p_bus_mw[buses].sum())
    load_mw = float(net.load_p_bus_mw[buses].sum())
    gen_key = hash(net.gen_on.tobytes())
    setup = cached(grid, net, f"acisl:{buses[0]}:{buses.size}:{gen_key}",
                   lambda: island_setup(grid, net, ybus, buses))
    if setup is None:
        return (IslandResult(k, buses.size, 0.0, load_mw, None, False, False, 0,
                             "no generation: de-energised"), np.zeros(buses.size), -1)
    sbus = (net.p_inj_mw[buses] + 1j * net.q_inj_mvar[buses]) / grid.base_mva
    held = _held_at_limit(grid, net, buses, setup, at_limit)
    if held is not None:  # those PV buses become PQ at their limit
        setup, q_held = held
        sbus = sbus.real + 1j * q_held / grid.base_mva
        reuse = False  # the LSGrid holds the case's PV buses
    slack, ref, pv, pq, vm0, y = setup.slack, setup.ref, setup.pv, setup.pq, setup.vm0, setup.y
    name = str(grid.bus["name"][slack])
    starts: list[np.ndarray] = []
    if v_case is not None:  # MATPOWER's start: stored voltages, setpoints where held
        vc = v_case[buses] * np.exp(-1j * np.angle(v_case[slack]))
        mag = np.abs(vc)
        regulated = np.concatenate([pv, ref])
        mag[regulated] = vm0[regulated]
        starts.append(mag * np.exp(1j * np.angle(vc)))
    if reuse:
        solved = ls_model(grid).solve_island(net, setup, sbus, tol, max_it,
                                             starts[0] if starts else None)
        if solved is not None:
            return (IslandResult(k, buses.size, gen_mw, load_mw, name, True, True, solved[1]),
                    solved[0], slack)
    starts.append(vm0.astype(complex))
    weights = np.zeros(buses.size)
    weights[ref] = 1.0
    # one solver object per island topology
    solver = cached(grid, net, f"nr:{buses[0]}:{buses.size}:{gen_key}", _solver)
    ok, iters = False, 0
    for v0 in starts:
        ok = solver.solve(y, v0, sbus, ref, weights, pv, pq, max_it, tol)
        iters += int(solver.get_nb_iter())
        if ok:
            break
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
