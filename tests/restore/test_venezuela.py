"""The Venezuela 7 March 2019 fire scenario through restoration (DC cascade, 8 days)."""

from __future__ import annotations

import json

import pytest

from blackout.restore import run_event
from blackout.scenario import compile_scenario, simulate_compiled


@pytest.fixture(scope="module")
def event() -> dict:
    compiled = compile_scenario("venezuela-2019-03-07-fire")
    timeline = simulate_compiled(compiled, mode="dc")
    return run_event(compiled.grid, timeline, compiled)


def test_restoration_finishes_within_horizon(event: dict) -> None:
    r = event["restoration"]
    assert r["horizon_h"] == pytest.approx(192.0)
    assert r["served_percent_final"] > 95.0
    assert r["hours_to_percent"]["95"] is not None and r["hours_to_percent"]["95"] <= 192.0
    assert set(r) >= {"served_percent_final", "energy_not_served_mwh", "customer_hours",
                      "region_restored_h", "curve"}
    json.dumps(event)


def test_every_region_reports_a_duration(event: dict) -> None:
    rh = event["restoration"]["region_restored_h"]
    assert len(rh) == 24
    assert all(v is not None and 0.0 < v <= 192.0 for v in rh.values()), rh


def test_zulia_and_andes_return_after_the_capital(event: dict) -> None:
    rh = event["restoration"]["region_restored_h"]
    capital = rh["Distrito Capital"]
    for region in ("Zulia", "Táchira", "Mérida"):
        assert rh[region] > capital, (region, rh[region], capital)


def test_second_collapse_darkens_the_country(event: dict) -> None:
    curve = event["restoration"]["curve"]
    pct = dict(zip(curve["time_h"], curve["served_percent"], strict=True))
    before = max(v for t, v in pct.items() if 30.0 <= t < 43.0)
    after = min(v for t, v in pct.items() if 43.5 <= t < 46.0)
    assert before > 20.0 and after < 5.0


def test_critical_services_reported(event: dict) -> None:
    crit = event["critical"]
    assert {"hospital", "dialysis", "water", "metro", "telecom", "payments"} <= set(crit)
    assert crit["dialysis"]["units_total"] == 129
    assert crit["dialysis"]["patients_total"] == 10200
    assert crit["water"]["longest_down_h"] > 24.0
    assert "Distrito Capital" in event["summary_text"] or "Zulia" in event["summary_text"]


def test_observed_comparison_rows(event: dict) -> None:
    rows = event["restoration"]["observed_comparison"]
    assert {r["region"] for r in rows} >= {"Distrito Capital", "Zulia", "Táchira", "Mérida"}
    assert all(r["residual_h"] is None or isinstance(r["residual_h"], float) for r in rows)
