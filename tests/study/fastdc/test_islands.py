"""The compiled loop's island step (spanning forest, then union-find over the chords)
against scipy's connected components."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from blackout.study.fastdc._compiled.islands import find_islands, new_work
from blackout.study.fastdc.model import DCModel
from blackout.study.fastdc.plan import plan_of

from ..conftest import rated


def _two_base_islands() -> DCModel:
    """case118 with every branch between buses 1-11 and the rest out: two base islands."""
    grid = rated("case118")
    side = grid.bus["number"] <= 11
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    in_service = np.array(grid.branch["in_service"]) & ~(side[f] != side[t])
    return DCModel.build(grid.replace(branch={**dict(grid.branch.items()),
                                              "in_service": in_service}))


@pytest.mark.parametrize("which", ["case118", "case2869", "two_islands"])
def test_island_labels_equal_connected_components(request: pytest.FixtureRequest,
                                                  which: str) -> None:
    """Random outage sets from none to all live branches: the same island count and the
    same label per bus (islands numbered by their lowest bus) as scipy."""
    model = _two_base_islands() if which == "two_islands" else request.getfixturevalue(which)
    plan = plan_of(model)
    grid = plan.grid()
    nb, nl = plan.pos.size, plan.f_bus.size
    live = np.flatnonzero(plan.live)
    assert plan.forest_v.size + model.base_islands == nb  # a spanning forest
    assert plan.forest_v.size + plan.chords.size == np.sum(plan.f_bus[live] != plan.t_bus[live])
    ws = new_work(nb, nl, plan.abr.size, plan.gen_bus.size)
    rng = np.random.default_rng(7)
    for k in [0, 1, 2, live.size // 3, live.size // 2, live.size - 1, live.size,
              *rng.integers(0, live.size, 40)]:
        out = np.zeros(nl, dtype=bool)
        out[rng.choice(live, int(k), replace=False)] = True
        ws[3][:] = out
        n = find_islands(ws, grid)
        on = live[~out[live]]
        adj = sp.coo_matrix((np.ones(on.size), (plan.f_bus[on], plan.t_bus[on])),
                            shape=(nb, nb))
        n_ref, labels = connected_components(adj, directed=False)
        assert n == n_ref
        np.testing.assert_array_equal(ws[1][1], labels)
