"""Loadability margin (cascade/loadability.py): the nose nearest the operating point,
found on a monotone bracket even when "solves" is not monotone in the load scale.

The solver here is case14's own AC flow with its answer declared unsolved outside a
window of load scales, the shape venezuela2019 shows under reactive limits (no solution
above the nose and none at light load). Tolerance on the margin: the bisection's
``BISECTION_TOL`` of the load scale.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from blackout import load_case
from blackout.cascade.loadability import BISECTION_TOL, find_margin, plan_shed
from blackout.flow import FlowState, PowerFlowResult, run_ac


@pytest.fixture(scope="module")
def case14():  # type: ignore[no-untyped-def]
    return load_case("case14")


def _windowed(grid, base_mw: float, low: float, high: float):  # type: ignore[no-untyped-def]
    """case14's AC solver, declared unsolved when the load scale is outside [low, high]."""

    def solve(fs: FlowState) -> PowerFlowResult:
        res = run_ac(grid, fs)
        lam = float(fs.load_p_mw.sum()) / base_mw
        if low <= lam <= high:
            return res
        res.islands[0] = replace(res.islands[0], converged=False)
        return res

    return solve


def _inputs(grid):  # type: ignore[no-untyped-def]
    fs = FlowState.of(grid)
    loads = np.flatnonzero(fs.load_p_mw > 0)
    gens = np.flatnonzero(fs.gen_in)
    return fs, loads, gens


def test_margin_is_the_nose_nearest_the_operating_point(case14) -> None:  # type: ignore[no-untyped-def]
    fs, loads, gens = _inputs(case14)
    base = float(fs.load_p_mw.sum())
    # solves only between 60 % and 97 % of the load: a bisection from 0.5 (the old rule)
    # met an unsolvable 0.5 and went down, away from the nose at 0.97
    m = find_margin(fs, 0, loads, gens, _windowed(case14, base, 0.6, 0.97))
    assert m.flow is not None
    assert 0.97 - BISECTION_TOL <= m.lam <= 0.97


def test_no_shed_when_no_lighter_load_solves(case14) -> None:  # type: ignore[no-untyped-def]
    fs, loads, gens = _inputs(case14)
    base = float(fs.load_p_mw.sum())
    solve = _windowed(case14, base, 2.0, 3.0)  # nothing at or below the operating point
    assert find_margin(fs, 0, loads, gens, solve).flow is None
    connected = np.ones(case14.load.n)
    assert plan_shed(case14, fs, 0, loads, gens, connected, fs.load_p_mw.copy(), solve) is None


def test_shed_brings_the_island_back_within_its_margin(case14) -> None:  # type: ignore[no-untyped-def]
    fs, loads, gens = _inputs(case14)
    base = float(fs.load_p_mw.sum())
    solve = _windowed(case14, base, 0.3, 0.8)
    plan = plan_shed(case14, fs, 0, loads, gens, np.ones(case14.load.n),
                     fs.load_p_mw.copy(), solve)
    assert plan is not None
    assert 0.8 - BISECTION_TOL <= plan.margin <= 0.8
    assert plan.mw >= (1.0 - 0.8) * base - 1e-6       # at least what the margin needs
