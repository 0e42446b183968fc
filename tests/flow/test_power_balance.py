"""Property test: on random valid small grids, AC power balance holds per island.

Per island: sum of generation - sum of load - shunt consumption = losses
(the sum over branches of p_from + p_to), within 1e-6 MW.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from blackout.flow import FlowState, run_ac, run_dc
from blackout.grid.model import Grid


@st.composite
def small_grids(draw: st.DrawFn) -> Grid:
    n = draw(st.integers(3, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # a random spanning tree plus a few extra branches
    f = [int(rng.integers(0, i)) for i in range(1, n)]
    t = list(range(1, n))
    for _ in range(draw(st.integers(0, 4))):
        a, b = rng.choice(n, 2, replace=False)
        f.append(int(a))
        t.append(int(b))
    nbr = len(f)
    x = rng.uniform(0.02, 0.2, nbr)
    ngen = draw(st.integers(1, 3))
    gbus = rng.choice(n, ngen, replace=False)
    types = np.ones(n, dtype=int)
    types[gbus] = 2
    types[gbus[0]] = 3
    load = rng.uniform(0, 40, n)
    gs = rng.uniform(0, 2, n)
    return Grid.from_columns(
        name="random",
        bus={"number": np.arange(1, n + 1), "type": types, "vn_kv": np.full(n, 230.0),
             "gs_mw": gs},
        branch={"from_bus": f, "to_bus": t, "r_pu": x * rng.uniform(0.05, 0.3, nbr), "x_pu": x,
                "b_pu": rng.uniform(0, 0.05, nbr), "in_service": rng.random(nbr) > 0.15},
        gen={"bus": gbus, "p_mw": rng.uniform(0, 60, ngen), "pmax_mw": np.full(ngen, 500.0),
             "vm_pu": rng.uniform(0.98, 1.04, ngen)},
        load={"bus": np.arange(n), "p_mw": load, "q_mvar": load * 0.3},
    )


def _balance(grid: Grid, res, mode: str) -> None:  # type: ignore[no-untyped-def]
    f = grid.branch["from_bus"]
    for isl in res.islands:
        if not isl.energized:
            continue
        buses = np.flatnonzero(res.bus["island"] == isl.island)
        in_isl = np.isin(f, buses)
        gen = res.gen["p_mw"][np.isin(grid.gen["bus"], buses)].sum()
        load = res.bus["load_mw"][buses].sum()
        vm2 = res.bus["vm_pu"][buses] ** 2 if mode == "ac" else 1.0
        shunt = (grid.bus["gs_mw"][buses] * vm2).sum()
        losses = (res.branch["p_from_mw"][in_isl] + res.branch["p_to_mw"][in_isl]).sum()
        assert abs(gen - load - shunt - losses) < 1e-6



@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_grids())
def test_ac_power_balance_per_island(grid: Grid) -> None:
    # mismatch tolerance 1e-10 pu = 1e-8 MW on a 100 MVA base, well inside the 1e-6 MW check
    res = run_ac(grid, tolerance_mva=1e-10)
    assume(res.converged)
    _balance(grid, res, "ac")


@settings(max_examples=60, deadline=None)
@given(small_grids())
def test_dc_power_balance_per_island(grid: Grid) -> None:
    res = run_dc(grid)
    _balance(grid, res, "dc")
    assert FlowState.of(grid).branch_in.dtype == bool
