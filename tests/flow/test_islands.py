"""Island-aware power flow: each island is solved on its own with its own slack."""

from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pytest

import blackout
from blackout.flow import FlowState, run_ac, run_dc
from blackout.grid.io.pandapower import grid_to_pandapower
from blackout.grid.topology import extract_buses, island_labels


def _cut_case118() -> tuple[blackout.Grid, np.ndarray, np.ndarray]:
    """case118 split in two by opening the branches between buses 1-11 and the rest."""
    grid = blackout.load_case("case118")
    numbers = grid.bus["number"]
    side = numbers <= 11
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    cut = side[f] != side[t]
    return grid, side, cut


def test_cut_set_makes_two_islands() -> None:
    grid, side, cut = _cut_case118()
    labels = island_labels(grid, branch_in=~cut & grid.branch["in_service"])
    assert set(labels[side]) == {0} and set(labels[~side]) == {1}


@pytest.mark.parametrize("mode", ["ac", "dc"])
def test_each_island_equals_solving_it_alone(mode: str) -> None:
    grid, side, cut = _cut_case118()
    state = FlowState.of(grid)
    state.branch_in[cut] = False
    solve = run_ac if mode == "ac" else run_dc
    whole = solve(grid, state)
    assert whole.converged and len(whole.islands) == 2
    assert all(i.energized for i in whole.islands)
    for buses in (np.flatnonzero(side), np.flatnonzero(~side)):
        alone_grid = extract_buses(grid, buses)
        alone = solve(alone_grid)
        assert alone.converged
        np.testing.assert_allclose(whole.bus["vm_pu"][buses], alone.bus["vm_pu"], atol=1e-9)
        va_w = whole.bus["va_degree"][buses]
        va_a = alone.bus["va_degree"]
        np.testing.assert_allclose(va_w - va_w[0], va_a - va_a[0], atol=1e-7)
        keep = np.isin(grid.branch["from_bus"], buses) & np.isin(grid.branch["to_bus"], buses)
        np.testing.assert_allclose(whole.branch["p_from_mw"][keep], alone.branch["p_from_mw"],
                                   atol=1e-6)


def test_we_energise_islands_that_pandapower_blacks_out() -> None:
    """pandapower only energises islands with an external grid; we give each island a slack."""
    grid, side, cut = _cut_case118()
    state = FlowState.of(grid)
    state.branch_in[cut] = False
    ours = run_ac(grid, state)
    split = grid.replace(branch=grid.branch.with_columns(
        in_service=grid.branch["in_service"] & ~cut))
    net = grid_to_pandapower(split)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    dark_in_pandapower = int(net.res_bus.vm_pu.isna().sum())
    assert dark_in_pandapower > 0
    assert ours.bus["energized"].all()


def test_island_without_generation_is_dark() -> None:
    grid = blackout.load_case("case9")
    state = FlowState.of(grid)
    # bus 5 (load) hangs on branches 4-5 and 5-6: open both
    for name in ("4-5", "5-6"):
        state.branch_in[grid.find("branch", name)] = False
    res = run_ac(grid, state)
    dark = [i for i in res.islands if not i.energized]
    assert len(dark) == 1 and dark[0].load_mw == pytest.approx(90.0)
    assert res.bus["vm_pu"][grid.find("bus", "5")] == 0.0
    assert res.converged
