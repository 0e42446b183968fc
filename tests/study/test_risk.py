"""Power-law tail fit (Clauset, Shalizi & Newman 2009) and the PES CFWG risk metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from blackout.errors import BlackoutError
from blackout.study.risk import ccdf, fit_power_law, risk_metrics

ALPHA_TOL = 0.05


def _pareto(alpha: float, xmin: float, n: int, seed: int) -> np.ndarray:
    u = np.random.default_rng(seed).random(n)
    return xmin * (1.0 - u) ** (-1.0 / (alpha - 1.0))  # inverse CDF of p(x) ~ x^-alpha


@pytest.mark.parametrize("alpha", [1.5, 2.0, 2.5])
def test_fit_recovers_pareto_exponent(alpha: float) -> None:
    x = _pareto(alpha, 3.0, 5000, seed=int(alpha * 10))
    known = fit_power_law(x, xmin=3.0, bootstrap=0)
    assert abs(known.alpha - alpha) <= ALPHA_TOL
    assert known.xmin == 3.0 and known.n_tail == 5000 and known.p_value is None
    # xmin estimated, with a non-power-law body below the tail
    body = np.random.default_rng(1).uniform(0.1, 3.0, 2000)
    est = fit_power_law(np.concatenate([body, x]), bootstrap=0)
    assert abs(est.alpha - alpha) <= ALPHA_TOL
    assert est.xmin_estimated and 2.5 <= est.xmin <= 60.0
    assert abs(est.alpha_stderr - (est.alpha - 1) / np.sqrt(est.n_tail)) < 1e-12


def test_p_value_high_for_power_law_low_for_exponential() -> None:
    pl = fit_power_law(_pareto(2.2, 1.0, 3000, seed=3), bootstrap=50, seed=1)
    assert pl.p_value is not None and pl.p_value > 0.1
    e = np.random.default_rng(5).exponential(10.0, 5000)
    fixed = fit_power_law(e, xmin=float(np.quantile(e, 0.1)), bootstrap=50, seed=1)
    assert fixed.p_value is not None and fixed.p_value < 0.1
    est = fit_power_law(e, bootstrap=50, seed=1)
    assert est.p_value is not None and est.p_value < 0.1
    again = fit_power_law(e, bootstrap=50, seed=1)
    assert again == est  # seeded
    d = est.to_dict()
    assert set(d) >= {"alpha", "xmin", "n_tail", "ks_distance", "p_value"}
    json.dumps(d)


def test_fit_rejects_too_few_positive_samples() -> None:
    with pytest.raises(BlackoutError):
        fit_power_law(np.array([0.0, -1.0, 2.0, 3.0, np.nan]))
    with pytest.raises(BlackoutError):
        fit_power_law(np.array([5.0]), xmin=1.0)
    with pytest.raises(BlackoutError):
        fit_power_law(np.full(50, 2.0))  # no variation


def test_ccdf() -> None:
    x, p = ccdf(np.array([3.0, 1.0, 3.0, 2.0]))
    assert x.tolist() == [1.0, 2.0, 3.0]
    assert p.tolist() == [1.0, 0.75, 0.5]


def test_risk_metrics_by_hand() -> None:
    loss = [0.0, 10.0, 30.0, 60.0]
    lines = [1, 3, 5, 9]
    init = [[0], [1], [2], [0, 3]]
    trip = [[], [4], [4, 5], [1, 4]]
    names = [f"L{i}" for i in range(6)]
    r = risk_metrics(loss, lines, initiating=init, tripped=trip, branch_names=names,
                     large_mw=30.0)
    json.dumps(r, allow_nan=False)
    e = r["expected_demand_loss"]
    assert r["scenarios"] == 4
    assert e["mean_mw"] == pytest.approx(25.0)
    assert e["std_mw"] == pytest.approx(np.sqrt((25**2 + 15**2 + 5**2 + 35**2) / 4))
    assert e["max_mw"] == 60.0 and e["p_loss"] == 0.75
    assert e["q95_mw"] == 60.0 and e["cvar95_mw"] == pytest.approx(60.0)
    d = r["demand_loss_distribution"]
    assert d["ccdf"] == {"x_mw": [0.0, 10.0, 30.0, 60.0], "p": [1.0, 0.75, 0.5, 0.25]}
    assert d["power_law"] is None and "positive samples" in d["power_law_error"]
    ld = r["lines_outaged_distribution"]
    assert ld["mean"] == 4.5 and ld["max"] == 9
    assert ld["pmf"] == {"lines": [1, 3, 5, 9], "p": [0.25] * 4}
    c = r["critical_lines"]
    assert c["large_mw"] == 30.0 and c["large_cascades"] == 2 and c["large_weight"] == 0.5
    rows = {row["branch"]: row for row in c["rows"]}
    # large cascades: #2 (30 MW: 2, 4, 5) and #3 (60 MW: 0, 3, 1, 4), weight 1/4 each
    assert [row["branch"] for row in c["rows"]] == [4, 0, 1, 3, 2, 5]
    assert rows[4]["score_mw"] == pytest.approx(0.25 * 30 + 0.25 * 60)
    assert rows[4]["share"] == pytest.approx(1.0) and rows[4]["tripped"] == 2
    assert rows[0]["score_mw"] == pytest.approx(15.0)
    assert rows[0]["share"] == pytest.approx(15.0 / 22.5)
    assert rows[0]["initiating"] == 1 and rows[1]["tripped"] == 1 and rows[1]["initiating"] == 0
    assert rows[2]["frequency"] == 0.25 and rows[4]["frequency"] == 0.5
    assert rows[4]["name"] == "L4"


def test_risk_metrics_weights_and_default_threshold() -> None:
    loss = [0.0, 10.0, 30.0, 60.0]
    r = risk_metrics(loss, [1, 3, 5, 9], weights=[1, 1, 1, 5],
                     initiating=[[0], [1], [2], [3]], tripped=[[], [], [], [4]], top=1)
    assert r["expected_demand_loss"]["mean_mw"] == pytest.approx(340.0 / 8)
    assert r["lines_outaged_distribution"]["mean"] == pytest.approx((1 + 3 + 5 + 45) / 8)
    c = r["critical_lines"]
    assert c["large_mw"] == 60.0 and c["large_cascades"] == 1  # 90 % quantile
    assert len(c["rows"]) == 1 and c["rows"][0]["branch"] == 3  # tie 3/4: lower id first
    assert risk_metrics(loss, [1, 3, 5, 9])["critical_lines"] is None
    with pytest.raises(BlackoutError):
        risk_metrics([], [])
    with pytest.raises(BlackoutError):
        risk_metrics([1.0], [1], weights=[-1.0])


def test_risk_metrics_fits_a_heavy_tail() -> None:
    loss = _pareto(2.0, 5.0, 4000, seed=11)
    r = risk_metrics(loss, np.ones(loss.size, dtype=int), bootstrap=0)
    fit = r["demand_loss_distribution"]["power_law"]
    assert abs(fit["alpha"] - 2.0) <= ALPHA_TOL
    assert len(r["demand_loss_distribution"]["ccdf"]["x_mw"]) <= 202
