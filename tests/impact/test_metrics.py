"""Impact metrics against independent calculations."""

from __future__ import annotations

import numpy as np
import pytest
from tests.restore.smallgrid import blackout_timeline, chain_grid

from blackout.impact import ServedCurve, critical_services
from blackout.restore import restore


def _random_curve(seed: int) -> ServedCurve:
    grid = chain_grid()
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 100, 40))
    t[0] = 0.0
    demand = grid.bus_load_mw()
    served = demand * rng.uniform(0, 1, (t.size, grid.bus.n))
    return ServedCurve.build(grid, t, served, end_h=120.0)


def _dense(curve: ServedCurve, n: int = 400_000) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint samples of the step function on a fine grid (independent evaluation)."""
    edges = np.linspace(curve.time_h[0], curve.end_h, n + 1)
    mid = (edges[:-1] + edges[1:]) / 2
    k = np.searchsorted(curve.time_h, mid, side="right") - 1
    return np.diff(edges), curve.served_bus_mw[k]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ens_equals_numeric_integral(seed: int) -> None:
    c = _random_curve(seed)
    dt, served = _dense(c)
    unserved = c.grid.bus_load_mw().sum() - served.sum(axis=1)
    assert c.energy_not_served_mwh() == pytest.approx(float(unserved @ dt), rel=1e-4)


def test_ens_of_a_restoration_equals_numeric_integral() -> None:
    grid = chain_grid()
    res = restore(grid, blackout_timeline(grid), params={"horizon_h": 24.0, "crews": 2})
    t = np.linspace(0.0, 24.0, 200_001)
    mid = (t[:-1] + t[1:]) / 2
    unserved = np.array([grid.bus_load_mw().sum() - res.served_mw_at(x).sum() for x in mid[::50]])
    approx = float(unserved.sum() * (t[1] - t[0]) * 50)
    assert res.curve.energy_not_served_mwh() == pytest.approx(approx, rel=2e-3)
    assert res.to_dict()["energy_not_served_mwh"] == pytest.approx(
        res.curve.energy_not_served_mwh(), abs=0.1)


def test_customer_hours_and_population() -> None:
    c = _random_curve(3)
    dt, served = _dense(c)
    pop = np.asarray(c.grid.region["population"], dtype=float)
    demand_reg = c.demand_region_mw()
    served_reg = served @ np.eye(5)[:, 1:]  # buses 1..4 are regions A..D
    dark = (1 - served_reg / demand_reg) * pop
    assert c.customer_hours() == pytest.approx(float(dark.sum(axis=1) @ dt), rel=1e-4)


def test_restored_hours_is_end_of_last_dark_interval() -> None:
    grid = chain_grid()
    d = grid.bus_load_mw()
    t = [0.0, 1.0, 5.0, 8.0, 9.0]
    s = [d, d * 0, d * 0.95, d * 0.5, d]
    c = ServedCurve.build(grid, t, s, end_h=20.0)
    assert c.restored_h() == {r: 9.0 for r in "ABCD"}
    assert c.first_restored_h() == {r: 5.0 for r in "ABCD"}
    assert c.hours_dark() == {r: 4.0 for r in "ABCD"}
    never = ServedCurve.build(grid, [0.0, 1.0], [d, d * 0.2], end_h=5.0)
    assert never.restored_h()["A"] is None


def test_critical_models_follow_their_rules() -> None:
    grid = chain_grid()
    crit = np.array(["", "hospital", "water", "telecom"])
    grid = grid.replace(load=grid.load.with_columns(critical=crit))
    d = grid.bus_load_mw()
    t = np.arange(0.0, 60.0, 0.5)
    dark = (t >= 1.0) & (t < 21.0)
    served = np.where(dark[:, None], 0.0, d[None, :])
    c = ServedCurve.build(grid, t, served, end_h=60.0)
    rep = critical_services(c)
    by = {tr.category: tr.share for tr in rep.traces}
    p = rep.params
    hosp = p["hospital"]
    b = hosp["coverage_fraction"] * (1 - hosp["fail_to_start"])
    in_fuel = dark & (t - 1.0 < hosp["fuel_hours"])
    assert np.allclose(by["hospital"][in_fuel], b)
    assert np.allclose(by["hospital"][~dark], 1.0)
    w = p["water"]
    dry_from, wet_from = 1.0 + w["buffer_hours"], 21.0 + w["refill_hours"]
    assert np.all(by["water"][(t >= dry_from) & (t < wet_from)] == 0.0)
    assert np.all(by["water"][(t < dry_from) | (t >= wet_from)] == 1.0)
    tel = p["telecom"]["fuel_hours"]
    assert np.all(by["telecom"][dark & (t - 1.0 >= tel)] == 0.0)
    assert np.all(by["payments"] <= by["telecom"] + 1e-12)
    out = rep.to_dict()
    assert out["water"]["longest_down_h"] == pytest.approx(wet_from - dry_from)
