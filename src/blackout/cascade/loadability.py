"""Voltage collapse as a loadability margin: how much load an unsolvable AC island must
lose, and where.

When an energised island's AC power flow has no solution, the island is past its
loadability limit (the nose of its P-V curve) or its solver failed. Instead of
shedding fixed steps, :func:`find_margin` bisects a load scale ``lam`` on the island
(loads and their generation scaled together, every other island as it is) with the
same AC solver the cascade uses (reactive limits included when they are on), giving
the largest ``lam*`` below the operating point that solves, bracketed from the first
solvable scale met walking down from 1: the island's loadability margin. :func:`plan_shed`
then sheds only what is needed, where it helps most: whole bus loads at the buses with
the lowest voltage at ``lam*`` (the weakest part of the island, where the P-V nose is
reached first), growing the set until the island solves, and never more than the
uniform shed ``(1 - lam*)`` plus a 2 % margin would take.

An island with a generation surplus (its units cannot come down to its load: the
quasi-steady state raises its load, ``load_factor >= 1``) never sheds load for voltage
collapse; the engine says instead that its AC flow had no solution and which flows
stood in (:class:`blackout.cascade.engine.Cascade`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from blackout.flow import FlowState, PowerFlowResult
from blackout.grid.model import Grid

__all__ = ["Margin", "ShedPlan", "find_margin", "plan_shed"]

#: load scales tried walking down from the operating point until one solves (the bracket)
BRACKET_SCALES = (0.98, 0.95, 0.9, 0.8, 0.6, 0.4, 0.2, 0.01)
#: bisection steps between the bracket's ends at most
BISECTION_STEPS = 7
#: the bisection stops when the bracket is narrower than this (0.5 % of the island's load)
BISECTION_TOL = 0.005
#: extra fraction of the island's load allowed beyond the uniform shed
EXTRA_MARGIN = 0.02

Solver = Callable[[FlowState], PowerFlowResult]


@dataclass(frozen=True)
class Margin:
    """Loadability margin of one island: ``lam`` (largest solvable load scale, 0-1),
    the solved flow there (None when not even a 1 % load solves) and the solves used."""

    lam: float
    flow: PowerFlowResult | None
    solves: int


@dataclass(frozen=True)
class ShedPlan:
    """Loads to shed (positions, fraction each) to bring an island back to a solution;
    ``mw`` in total; ``margin`` the island's loadability scale; ``buses`` where."""

    loads: np.ndarray
    fraction: np.ndarray
    mw: float
    margin: float
    buses: np.ndarray


def _scaled(fs: FlowState, loads: np.ndarray, gens: np.ndarray, lam: float) -> FlowState:
    out = fs.copy()
    out.load_p_mw[loads] *= lam
    out.load_q_mvar[loads] *= lam
    out.gen_p_mw[gens] *= lam
    return out


def _solves(flow: PowerFlowResult, label: int) -> bool:
    res = flow.islands[label] if label < len(flow.islands) else None
    return bool(res is not None and res.converged)


def find_margin(fs: FlowState, label: int, loads: np.ndarray, gens: np.ndarray,
                solve: Solver) -> Margin:
    """The island's loadability margin: the nose of its P-V curve nearest its operating
    point, on the load scale.

    Walking down the load scale from the operating point (1) in the steps of
    :data:`BRACKET_SCALES`, the first scale that solves brackets the nose with the last
    one that did not; bisection between the two then finds it. A bisection over [0, 1]
    would not: with reactive limits an island can have no solution at light load as
    well (line charging and fixed capacitors drive its units to qmin: venezuela2019 with
    two Guri-Malena circuits out solves from 98 % to 50 % of its load and not below), so
    "solves" is not monotone in the scale and a bisection from 0.5 can land on the wrong
    side of the nose. Above the first solvable scale met on the way down it is monotone
    by construction.

    Parameters
    ----------
    fs : the state that did not solve. label : the island's number in that state's
        topology. loads, gens : positions of the island's loads and online units.
    solve : the cascade's AC solver (reactive limits as configured).

    Returns
    -------
    Margin: ``lam`` the largest solvable scale found (0 when none of the bracket's scales
    solves), the flow there and the number of solves.
    """
    hi, lo, best, n = 1.0, 0.0, None, 0
    for lam in BRACKET_SCALES:
        flow = solve(_scaled(fs, loads, gens, lam))
        n += 1
        if _solves(flow, label):
            lo, best = lam, flow
            break
        hi = lam
    if best is None:
        return Margin(0.0, None, n)
    for _ in range(BISECTION_STEPS):
        if hi - lo <= BISECTION_TOL:
            break
        mid = 0.5 * (lo + hi)
        flow = solve(_scaled(fs, loads, gens, mid))
        n += 1
        if _solves(flow, label):
            lo, best = mid, flow
        else:
            hi = mid
    return Margin(lo, best, n)


def plan_shed(grid: Grid, fs: FlowState, label: int, loads: np.ndarray, gens: np.ndarray,
              connected: np.ndarray, demand_mw: np.ndarray, solve: Solver) -> ShedPlan | None:
    """Smallest shed, at the weakest buses, that lets the island's AC flow solve.

    Parameters
    ----------
    grid : the network. fs : the unsolvable state. label : the island's number.
    loads : the island's load positions; gens : its online units.
    connected : fraction of each load still connected (0-1); demand_mw : each load's
        demand (MW) before any shedding.
    solve : the cascade's AC solver.

    Returns
    -------
    ShedPlan, or None when the island has no connected load or when no scale of the
    bracket solves (the missing solution is then not a loadability limit that shedding
    load would cure, e.g. an over-voltage at light load with units at qmin).
    """
    live = loads[connected[loads] > 0]
    if live.size == 0:
        return None
    margin = find_margin(fs, label, live, gens, solve)
    if margin.flow is None:  # no lighter load solves either: shedding is not shown to help
        return None
    island_mw = float(fs.load_p_mw[live].sum())
    need = (1.0 - margin.lam) * island_mw
    cap = min(need + EXTRA_MARGIN * island_mw, island_mw)
    lbus = np.asarray(grid.load["bus"])
    vm = np.asarray(margin.flow.bus["vm_pu"], dtype=float)
    order = live[np.argsort(vm[lbus[live]], kind="stable")]
    p_live = fs.load_p_mw[order]
    cum = np.cumsum(p_live)
    # try growing sets of the weakest loads: a quarter, a half, then all of the need
    for share in (0.25, 0.5, 1.0):
        target = share * need
        k = int(np.searchsorted(cum, target, side="left")) + 1
        chosen = order[:min(k, order.size)]
        mw = float(fs.load_p_mw[chosen].sum())
        if mw > cap + 1e-9 and share < 1.0:
            continue
        trial = fs.copy()
        trial.load_p_mw[chosen] = 0.0
        trial.load_q_mvar[chosen] = 0.0
        total_gen = float(trial.gen_p_mw[gens].sum())
        if total_gen > 0:
            trial.gen_p_mw[gens] *= max(1.0 - mw / total_gen, 0.0)
        if _solves(solve(trial), label):
            return _plan(chosen, connected, demand_mw, fs, margin.lam, lbus)
    # the weakest buses alone do not help enough: the uniform shed to the margin
    frac = min(1.0 - margin.lam + EXTRA_MARGIN, 1.0)
    return ShedPlan(live, np.full(live.size, frac), float(fs.load_p_mw[live].sum() * frac),
                    margin.lam, np.unique(lbus[live]))


def _plan(chosen: np.ndarray, connected: np.ndarray, demand_mw: np.ndarray, fs: FlowState,
          lam: float, lbus: np.ndarray) -> ShedPlan:
    frac = np.asarray(connected[chosen], dtype=float)
    return ShedPlan(chosen, frac, float(fs.load_p_mw[chosen].sum()), lam,
                    np.unique(lbus[chosen]))
