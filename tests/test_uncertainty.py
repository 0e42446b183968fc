"""Uncertain inputs: priors validated like the schema, central values for a run, seeded
draws, application to the scenario and grid, and what a sample of outcomes says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blackout.errors import ScenarioError
from blackout.scenario import builtin_scenarios, compile_scenario, load_scenario
from blackout.study.sweep.stats import drivers, outcome_distributions, power_law_rule
from blackout.uncertainty import (
    Prior,
    parse_path,
    pin,
    sample,
)

CASE39 = {
    "name": "case39-uncertain", "case": "case39", "mode": "dc", "horizon_s": 60, "seed": 1,
    "threats": [{"kind": "sabotage", "name": "two lines", "at_s": 0, "method": "explosive",
                 "targets": [{"branch": "16-19", "repair_h_median": 10},
                             {"branch": "21-22", "repair_h_median": 10}]}],
    "uncertain": {
        "demand": {"input": "demand_mw", "dist": "uniform", "low": 5000, "high": 7500,
                   "central": 6254.23, "source": "assumption: test"},
        "inertia": {"input": "inertia_scale", "dist": "uniform", "low": 0.5, "high": 1.5,
                    "source": "assumption: test"},
        "attack_time": {"path": "threats[0].at_s", "dist": "uniform", "low": 0, "high": 10,
                        "central": 0, "source": "assumption: test"},
        "repair": {"path": "threats[0].targets[0].repair_h_median", "op": "scale",
                   "dist": "triangular", "low": 0.5, "mode": 1.0, "high": 3.0,
                   "source": "assumption: test"},
    },
}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "sc.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_central_values_reproduce_the_scenario_without_priors() -> None:
    sc = load_scenario(CASE39)
    with_priors = compile_scenario(sc)
    without = compile_scenario(sc.model_copy(update={"uncertain": {}}))
    for col in ("p_mw", "pmax_mw", "inertia_h_s"):
        np.testing.assert_array_equal(with_priors.grid.gen[col], without.grid.gen[col])
    np.testing.assert_array_equal(with_priors.grid.load["p_mw"], without.grid.load["p_mw"])
    assert [e.time_s for e in with_priors.events] == [e.time_s for e in without.events]
    assert with_priors.settings["uncertain"]["attack_time"] == 0.0
    assert with_priors.scenario.uncertain == {}  # resolved: compiling again changes nothing


def test_pinned_values_reach_grid_events_and_paths() -> None:
    sc = load_scenario(CASE39)
    vals = {"demand": 7000.0, "inertia": 0.5, "attack_time": 4.0, "repair": 2.0}
    c = compile_scenario(sc.model_copy(update={"uncertain": pin(sc.uncertain, vals)}))
    base = compile_scenario(sc)
    assert float(c.grid.load["p_mw"].sum()) == pytest.approx(7000.0)
    np.testing.assert_allclose(c.grid.gen["inertia_h_s"], 0.5 * base.grid.gen["inertia_h_s"])
    assert {e.time_s for e in c.events if e.kind == "branch"} == {4.0}
    assert c.scenario.threats[0].targets[0].repair_h_median == pytest.approx(20.0)
    assert c.settings["uncertain"] == vals


@pytest.mark.parametrize(("prior", "message"), [
    ({"input": "demand_mw", "dist": "uniform", "low": 3, "high": 2, "source": "x"},
     "low must be < high"),
    ({"input": "demand_mw", "dist": "triangular", "low": 1, "high": 2, "mode": 3,
      "source": "x"}, "mode must lie"),
    ({"input": "demand_mw", "dist": "uniform", "low": 1, "high": 2}, r"uncertain\.x\.source"),
    ({"input": "demand_mw", "path": "seed", "dist": "uniform", "low": 1, "high": 2,
      "source": "x"}, "exactly one of input"),
    ({"input": "wind", "dist": "uniform", "low": 1, "high": 2, "source": "x"},
     r"uncertain\.x\.input"),
    ({"input": "demand_mw", "dist": "normal", "mean": 1, "source": "x"}, "needs mean and sd"),
    ({"input": "demand_mw", "dist": "uniform", "low": 1, "high": 2, "central": 5,
      "source": "x"}, "central 5.0 lies outside"),
])
def test_bad_priors_name_the_file_and_field(tmp_path: Path, prior: dict, message: str) -> None:
    path = _write(tmp_path, {**CASE39, "uncertain": {"x": prior}})
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(path)
    assert str(path) in str(err.value) and "uncertain.x" in str(err.value)


@pytest.mark.parametrize(("prior", "message"), [
    ({"path": "threats[5].at_s", "dist": "uniform", "low": 0, "high": 1, "source": "x"},
     r"uncertain\.x.*no threats\[5\]"),
    ({"path": "threats[0].at_s", "dist": "uniform", "low": -9, "high": -1, "source": "x"},
     r"threats\[0\]\.at_s.*values in use"),
    ({"path": "threats[0].name", "dist": "uniform", "low": 0, "high": 1, "source": "x"},
     "not a number"),
])
def test_values_that_do_not_fit_their_target_are_errors(tmp_path: Path, prior: dict,
                                                        message: str) -> None:
    path = _write(tmp_path, {**CASE39, "uncertain": {"x": prior}})
    with pytest.raises(ScenarioError, match=message) as err:
        compile_scenario(path)
    assert str(path) in str(err.value)


@settings(max_examples=40, deadline=None)
@given(dist=st.sampled_from(["uniform", "triangular", "normal", "loguniform"]),
       lo=st.floats(0.1, 10), width=st.floats(0.1, 10), seed=st.integers(0, 2**32 - 1),
       integer=st.booleans())
def test_draws_stay_in_bounds_and_repeat_with_the_seed(dist: str, lo: float, width: float,
                                                      seed: int, integer: bool) -> None:
    hi = lo + width
    extra = {"mode": lo + width / 3} if dist == "triangular" else \
        {"mean": lo + width / 2, "sd": width} if dist == "normal" else {}
    p = Prior.model_validate({"input": "inertia_scale", "dist": dist, "low": lo, "high": hi,
                              "integer": integer, "source": "assumption: test", **extra})
    a = [p.draw(np.random.default_rng(seed)) for _ in range(2)]
    assert a[0] == a[1]
    xs = sample({"p": p}, np.random.default_rng(seed))["p"], p.central_value()
    for x in xs:
        if integer:
            assert float(x).is_integer()
        else:
            assert lo <= x <= hi


def test_parse_path() -> None:
    assert parse_path("threats[0].actions[3].at_s") == ("threats", 0, "actions", 3, "at_s")
    assert parse_path("restoration.crews") == ("restoration", "crews")


def test_drivers_find_the_input_that_moves_the_outcome() -> None:
    rng = np.random.default_rng(0)
    x1, x2 = rng.uniform(size=60), rng.uniform(size=60)
    frame = pd.DataFrame({"input_a": x1, "input_b": x2, "load_lost_mw": 100 * x1 ** 3,
                          "regions_dark": np.full(60, 24.0)})
    drv = drivers(frame)
    assert drv["load_lost_mw"][0]["input"] == "a"
    assert drv["load_lost_mw"][0]["rho"] == pytest.approx(1.0)
    assert abs(drv["load_lost_mw"][1]["rho"]) < 0.4
    assert "regions_dark" not in drv  # a constant outcome has no driver
    out = outcome_distributions(frame)
    assert out["regions_dark"]["varies"] is False and out["load_lost_mw"]["varies"] is True


def test_power_law_rule() -> None:
    assert "1 distinct" in power_law_rule(np.full(40, 11000.0))
    assert "ratio" in power_law_rule(np.linspace(1000, 5000, 40))
    pareto = (np.random.default_rng(1).pareto(1.5, 400) + 1) * 10
    assert power_law_rule(pareto) == ""


def test_builtin_venezuela_scenarios_declare_sourced_priors() -> None:
    for name, info in builtin_scenarios().items():
        sc = load_scenario(info.path)
        if sc.case != "venezuela2019":
            continue
        inputs = {p.input for p in sc.uncertain.values()}
        assert {"demand_mw", "inertia_scale"} <= inputs, name
        for key, prior in sc.uncertain.items():
            assert prior.source.strip(), (name, key)
        d = next(p for p in sc.uncertain.values() if p.input == "demand_mw")
        assert (d.low, d.high) == (10500, 13500), name


def test_ufls_design_inputs_reach_the_engine() -> None:
    from blackout.cascade.settings import CascadeSettings
    from blackout.scenario import engine_settings

    priors = {**CASE39["uncertain"],
              "shed": {"input": "ufls_shed_scale", "dist": "triangular", "low": 0.6,
                       "mode": 1.0, "high": 1.8, "source": "assumption: test"},
              "first": {"input": "ufls_first_stage_hz", "dist": "uniform", "low": 59.1,
                        "high": 59.5, "central": 59.3, "source": "assumption: test"}}
    sc = load_scenario({**CASE39, "uncertain": priors})
    default = CascadeSettings().ufls_stages
    assert engine_settings(compile_scenario(sc).settings).ufls_stages == default
    pinned = sc.model_copy(update={"uncertain": pin(sc.uncertain, {"shed": 1.5, "first": 59.5})})
    stages = engine_settings(compile_scenario(pinned).settings).ufls_stages
    assert [s.fraction for s in stages] == pytest.approx([1.5 * s.fraction for s in default])
    assert stages[0].threshold_hz == pytest.approx(59.5)
    assert [a.threshold_hz - b.threshold_hz for a, b in zip(stages, default, strict=True)] == \
        pytest.approx([0.2] * len(default))
    too_much = sc.model_copy(update={"uncertain": pin(sc.uncertain, {"shed": 5.0})})
    with pytest.raises(ScenarioError, match=r"uncertain\.shed.*125 %"):
        compile_scenario(too_much)


def test_unit_trip_spreads_reach_the_engine() -> None:
    from blackout.scenario import engine_settings

    priors = {**CASE39["uncertain"],
              "hz": {"input": "unit_trip_spread_hz", "dist": "uniform", "low": 0.0,
                     "high": 0.4, "central": 0.0, "source": "assumption: test"},
              "pu": {"input": "unit_trip_spread_pu", "dist": "uniform", "low": 0.0,
                     "high": 0.04, "central": 0.0, "source": "assumption: test"}}
    sc = load_scenario({**CASE39, "uncertain": priors})
    central = engine_settings(compile_scenario(sc).settings)
    assert (central.unit_trip_spread_hz, central.unit_trip_spread_pu) == (0.0, 0.0)
    pinned = sc.model_copy(update={"uncertain": pin(sc.uncertain, {"hz": 0.3, "pu": 0.02})})
    settings = engine_settings(compile_scenario(pinned).settings)
    assert settings.unit_trip_spread_hz == pytest.approx(0.3)
    assert settings.unit_trip_spread_pu == pytest.approx(0.02)


def test_restoration_only_inputs_do_not_drive_cascade_outcomes() -> None:
    from blackout.study.sweep.stats import restoration_only_inputs

    spec = {"uncertain": {"crews": {"path": "restoration.crews"},
                          "demand": {"input": "demand_mw"}}}
    only = restoration_only_inputs(spec)
    assert only == {"crews"}
    x = np.arange(20.0)
    frame = pd.DataFrame({"input_crews": x, "input_demand": x[::-1],
                          "load_lost_mw": x ** 2, "restored_90_h": x})
    drv = drivers(frame, restoration_only=only)
    assert [r["input"] for r in drv["load_lost_mw"]] == ["demand"]
    assert {r["input"] for r in drv["restored_90_h"]} == {"crews", "demand"}
