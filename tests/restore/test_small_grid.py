"""Restoration on a small radial grid: order, pickup limits, crews, repairs."""

from __future__ import annotations

import math

import pytest
from tests.restore.smallgrid import blackout_timeline, chain_grid

from blackout.grid.model import Grid
from blackout.restore import load_params, max_pickup, restore


@pytest.fixture()
def chain() -> Grid:
    return chain_grid()


PARAMS = {"horizon_h": 24.0, "crews": 10, "inspection_kmh": 30.0, "crew_bases": ["B0"]}


def test_regions_return_in_path_order(chain: Grid) -> None:
    res = restore(chain, blackout_timeline(chain), params=PARAMS)
    rh = res.region_restored_h()
    assert all(rh[r] is not None for r in "ABCD"), rh
    assert rh["A"] < rh["B"] < rh["C"] <= rh["D"], rh
    assert res.served_percent_final() == pytest.approx(100.0)
    assert res.order()[:4] == ["A", "B", "C", "D"]


def test_no_pickup_block_exceeds_frequency_response(chain: Grid) -> None:
    res = restore(chain, blackout_timeline(chain), params=PARAMS)
    assert res.pickups, "no pickups recorded"
    # Independent limit for the hydro unit alone (typical-parameters 4.5): a 1 pu step on a
    # hydro island dips 21 Hz at droop 0.05, so keeping 0.5 Hz above 59.3 Hz allows
    # 500 MW / 21 Hz * 0.5 Hz = 11.9 MW; RoCoF 0.5 Hz/s with H = 4 s allows 33.3 MW.
    hydro_only_mw = 500.0 / 21.0 * 0.5
    gas_online = min((a["time_h"] for a in res.actions
                      if a["action"] == "unit on line" and a["what"] == "Gas"), default=math.inf)
    early = [p for p in res.pickups if p["time_h"] < gas_online]
    assert early, "expected pickups before the gas unit was on line"
    for p in res.pickups:
        assert p["block_mw"] <= p["limit_mw"] + 1e-9
    for p in early:
        assert p["block_mw"] <= hydro_only_mw + 1e-9
        assert p["nadir_mw"] == pytest.approx(hydro_only_mw, rel=1e-9)


def test_max_pickup_rule_matches_formula() -> None:
    import numpy as np

    p = load_params()
    lim = max_pickup(capacity_mw=np.array([1000.0, 400.0]), output_mw=np.array([900.0, 0.0]),
                     inertia_h_s=np.array([4.0, 3.0]), droop_pu=np.array([0.05, 0.05]),
                     kinds=["hydro", "steam"], f_hz=60.0, params=p)
    assert lim.nadir_mw == pytest.approx((1000 / 21.0 + 400 / 6.5) * 0.5)
    assert lim.rocof_mw == pytest.approx(2 * (4 * 1000 + 3 * 400) * 0.5 / 60)
    assert lim.headroom_mw == pytest.approx(500.0)
    assert lim.cap_mw == pytest.approx(70.0)
    assert lim.limit_mw == pytest.approx(min(lim.nadir_mw, lim.rocof_mw, 500.0, 70.0))


def test_one_crew_is_strictly_slower_than_ten(chain: Grid) -> None:
    tl = blackout_timeline(chain, faulted=(0, 1, 2, 3))
    slow = restore(chain, tl, params={**PARAMS, "crews": 1})
    fast = restore(chain, tl, params={**PARAMS, "crews": 10})
    assert slow.curve.energy_not_served_mwh() > fast.curve.energy_not_served_mwh()
    rs, rf = slow.region_restored_h(), fast.region_restored_h()
    assert rs["D"] is not None and rf["D"] is not None
    assert rs["D"] > rf["D"]


def test_damaged_element_not_energised_before_repair(chain: Grid) -> None:
    tl = blackout_timeline(chain)
    repair_h = 10.0
    res = restore(chain, tl, params=PARAMS, scenario={"repairs": [
        {"element": "branch", "name": "L2-3", "at_s": 0.0, "repair_h": repair_h}]})
    closes = [t for t, i in res.closes if i == chain.find("branch", "L2-3")]
    assert closes, "the repaired branch was never re-energised"
    assert min(closes) >= repair_h
    rh = res.region_restored_h()
    assert rh["C"] is not None and rh["C"] >= repair_h


def test_collapse_during_restoration_restarts(chain: Grid) -> None:
    tl = blackout_timeline(chain)
    calm = restore(chain, tl, params=PARAMS, interference=[])
    hit = restore(chain, tl, params=PARAMS, interference=[
        {"name": "second attack", "at_h": 6.0, "collapse": True,
         "damage": [{"branch": "L0-1", "repair_h": 5.0}]}])
    assert any(a["action"] == "collapse" for a in hit.actions)
    k = int((hit.curve.time_h < 6.0).sum())  # first sample at or after the collapse
    assert hit.curve.served_bus_mw[k].sum() == pytest.approx(0.0)
    assert hit.curve.served_bus_mw[k - 1].sum() > 0.0
    assert [t for t, i in hit.closes if i == 0 and t > 6.0][0] >= 11.0
    assert hit.curve.energy_not_served_mwh() > calm.curve.energy_not_served_mwh()


def test_cyber_slowdown_and_failed_reclosing_slow_restoration(chain: Grid) -> None:
    tl = blackout_timeline(chain)
    calm = restore(chain, tl, params=PARAMS, interference=[])
    cyber = restore(chain, tl, params=PARAMS, interference=[], scenario={"interference": {
        "from_s": 0.0, "reclose_fails": True, "slowdown_factor": 3.0,
        "bricked_substations": ["B2"]}})
    assert any(a["action"] == "reclose failed" for a in cyber.actions)
    assert cyber.curve.energy_not_served_mwh() > calm.curve.energy_not_served_mwh()
