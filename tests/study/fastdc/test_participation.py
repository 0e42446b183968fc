"""The island balance of the fast engine against the one rule (flow/balance.py).

The compiled loop keeps its own copy of the arithmetic (``cascade_islands._share``) and
the N-1 bridge path a closed form of the headroom rule; both must give what
:func:`blackout.flow.balance.balance_islands` gives on the same islands.
"""

from __future__ import annotations

import numpy as np
import pytest

from blackout import load_case
from blackout.flow.balance import balance_islands, dispatch_island
from blackout.grid.model import Grid
from blackout.study.contingency.n1 import screen_n1
from blackout.study.fastdc._compiled.islands import balance_slot, find_islands, new_work
from blackout.study.fastdc.engine import post_outage_flows
from blackout.study.fastdc.model import DCModel
from blackout.study.fastdc.plan import plan_of

from ..conftest import rated

GEN_MW_TOL = 1e-6  # unit output, compiled vs balance.py
FLOW_MW_TOL = 1e-6  # post-outage flows, bridge closed form vs the general path


def _tight(case: str) -> Grid:
    """``case`` rated, with half its units' pmax cut to 5 % above their dispatch and random
    droops, so that islands cap units one by one under the pmax and droop rules."""
    grid = rated(case)
    rng = np.random.default_rng(3)
    gen = {k: np.array(v) for k, v in grid.gen.items()}
    cut = rng.random(gen["p_mw"].size) < 0.5
    gen["pmax_mw"] = np.where(cut, np.maximum(1.05 * gen["p_mw"], gen["pmin_mw"]),
                              gen["pmax_mw"])
    gen["droop_pu"] = rng.uniform(0.02, 0.08, gen["p_mw"].size)
    return grid.replace(gen=gen)


def test_dispatch_island_keeps_limits_and_meets_demand() -> None:
    p = np.array([50.0, 80.0, 0.0, 120.0])
    lo = np.array([10.0, 20.0, 0.0, 100.0])
    hi = np.array([100.0, 90.0, 40.0, 150.0])
    for rule in ("pmax", "headroom", "droop"):
        for need in (150.0, 250.0, 379.0, 400.0, 130.0, 100.0):
            q, r = dispatch_island(rule, p, lo, hi, need, np.full(4, 0.05))
            assert np.all(q >= lo - 1e-12) and np.all(q <= hi + 1e-12)
            assert q.sum() + r == pytest.approx(need, abs=1e-9)
            assert r == pytest.approx(max(0.0, need - hi.sum()) + min(0.0, need - lo.sum()),
                                      abs=1e-9)
    # headroom: every unit moves by the same fraction of its room
    q, _ = dispatch_island("headroom", p, lo, hi, 300.0)
    frac = (q - p) / (hi - p)
    np.testing.assert_allclose(frac, frac[0], atol=1e-12)


@pytest.mark.parametrize("rule", ["headroom", "pmax", "droop"])
def test_compiled_balance_equals_balance_py(rule: str) -> None:
    """Random outage sets on case118 (tight units): the compiled balance's unit outputs,
    served load and bus injections equal balance.py's on the same islands."""
    model = DCModel.build(_tight("case118"), rule=rule)
    plan = plan_of(model)
    grid = plan.grid()
    nb, nl = plan.pos.size, plan.f_bus.size
    ws = new_work(nb, nl, plan.abr.size, plan.gen_bus.size)
    live = np.flatnonzero(plan.live)
    rng = np.random.default_rng(11)
    capped = 0
    for k in [0, 1, 5, 20, 60, 100, *rng.integers(1, live.size, 30)]:
        out = np.zeros(nl, dtype=bool)
        out[rng.choice(live, int(k), replace=False)] = True
        ws[3][:] = out
        n = find_islands(ws, grid)
        served_mw = balance_slot(ws, n, grid, plan.base_mva)
        labels = ws[1][1][:nb].copy()
        ref = balance_islands(rule, labels, model.gen_bus, model.gen_on, model.gen_p_case_mw,
                              model.pmin_mw, model.pmax_mw, model.load_bus_mw, model.gs_mw,
                              model.droop_pu)
        np.testing.assert_allclose(ws[16][:plan.gen_bus.size], ref.gen_p_mw, rtol=0,
                                   atol=GEN_MW_TOL)
        load = model.load_bus_mw * ref.served[labels]
        assert served_mw == pytest.approx(float(load.sum()), abs=GEN_MW_TOL)
        p_ref = model._injections(labels, n, ref.units, ref.gen_p_mw, load)
        np.testing.assert_allclose(ws[0][5][:nb], p_ref, rtol=0, atol=GEN_MW_TOL / 100)
        gmax = np.maximum(model.pmax_mw, model.pmin_mw)
        capped += int(np.sum(model.gen_on & (np.abs(ref.gen_p_mw - gmax) < 1e-9)
                             & (model.gen_p_case_mw < gmax)))
    assert capped > 0  # the sample reaches units' limits


def test_studies_keep_the_case_dispatch() -> None:
    """The base case of a study is the case's dispatch, only the DC imbalance moved: on
    case118 the units move by the case's shunt and loss mismatch, not a re-dispatch."""
    grid = load_case("case118")
    model = DCModel.build(grid)
    on = model.gen_on
    moved = np.abs(model.gen_p0_mw - model.gen_p_case_mw)[on].sum()
    mismatch = abs(model.load_bus_mw.sum() + model.gs_mw.sum()
                   - np.clip(model.gen_p_case_mw, model.pmin_mw, model.pmax_mw)[on].sum())
    clipped = np.abs(np.clip(model.gen_p_case_mw, model.pmin_mw, model.pmax_mw)
                     - model.gen_p_case_mw)[on].sum()
    assert moved <= mismatch + clipped + 1e-6
    assert moved < 0.15 * model.gen_p_case_mw[on].sum()


def test_bridge_closed_form_equals_general_path() -> None:
    """N-1 of the bridges of case118 (tight units, headroom): the compiled closed form's
    worst loading and load lost equal the general islanded path's flows."""
    model = DCModel.build(_tight("case118"))
    res = screen_n1(model, cascade=False)
    tab = res.table[res.table["islands_added"] > 0]
    assert len(tab) > 0
    flows = post_outage_flows(model, [[int(b)] for b in tab["branch"]])
    rate = np.where(model.rate_mva > 0, model.rate_mva, np.inf)
    worst = 100.0 * (np.abs(flows) / rate).max(axis=1)
    np.testing.assert_allclose(tab["max_loading_pct"].to_numpy(), worst, rtol=0,
                               atol=100 * FLOW_MW_TOL)
