"""Scenarios own their events: the case holds none; no load lost means nothing to restore."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blackout.restore import load_params, restore, run_event
from blackout.restore.spec import RestorationSpec
from blackout.scenario import builtin_scenarios, compile_scenario, load_scenario, simulate_compiled

GURI_ONLY = """\
name: guri-autotransformer-only
case: venezuela2019
horizon_s: 300
threats:
  - kind: sabotage
    name: one autotransformer
    at_s: 0
    method: explosive
    targets:
      - {branch: "Guri 765/400 kV autotransformer 2", repair_h_median: 100}
"""

COLLAPSE = {"name": "a second collapse", "at_h": 1.0, "collapse": True,
            "sources": ["a test"]}


def test_case_data_holds_no_events() -> None:
    p = load_params("venezuela2019")
    assert p.default_interference == ()
    assert p.interference == {}


def test_one_autotransformer_trip_restores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "guri.yaml"
    path.write_text(GURI_ONLY, encoding="utf-8")
    compiled = compile_scenario(path)
    timeline = simulate_compiled(compiled)
    assert timeline.summary()["load_lost_mw"] == pytest.approx(0.0, abs=1e-6)
    out = run_event(compiled.grid, timeline, compiled)
    r = out["restoration"]
    assert r["energy_not_served_mwh"] == 0
    assert r["interference"] == []
    assert r["nothing_to_restore"] is True
    assert r["peak_population_without_power"] == 0
    assert out["summary_text"].count("\n") == 0
    assert "nothing to restore" in out["summary_text"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(["case9", "case39"]),
       load_scale=st.floats(0.8, 1.0),
       seed=st.integers(0, 2**16),
       with_interference=st.booleans())
def test_no_initiating_threat_loses_nothing_and_restores_nothing(
        case: str, load_scale: float, seed: int, with_interference: bool) -> None:
    sc = load_scenario({"name": "quiet", "case": case, "mode": "dc", "horizon_s": 120,
                        "seed": seed, "snapshot": {"load_scale": load_scale},
                        "restoration": {"horizon_h": 4,
                                        "interference": [COLLAPSE] if with_interference
                                        else []}})
    compiled = compile_scenario(sc)
    timeline = simulate_compiled(compiled)
    assert timeline.summary()["load_lost_mw"] == pytest.approx(0.0, abs=1e-6)
    res = restore(compiled.grid, timeline, scenario=compiled.restoration,
                  spec=compiled.scenario.restoration)
    assert res.nothing_to_restore
    assert res.interference == [] and res.actions == [] and res.pickups == []
    assert res.curve.energy_not_served_mwh() == pytest.approx(0.0, abs=1e-6)
    assert res.served_percent_final() == pytest.approx(100.0)


def test_second_collapse_is_declared_by_the_7_march_scenarios_only() -> None:
    for name, info in builtin_scenarios().items():
        sc = load_scenario(info.path)
        names = [i.name for i in sc.restoration.interference]
        if name.startswith("venezuela-2019-03-07-"):
            assert names == ["venezuela-2019-03-09-second-collapse"], name
            assert all(i.sources for i in sc.restoration.interference), name
        else:
            assert "venezuela-2019-03-09-second-collapse" not in names, name
        assert sc.restoration.reproduces.strip(), f"{name}: no 'reproduces' line"


def test_restoration_inputs_override_the_case_values() -> None:
    from blackout import load_case
    from blackout.cascade import Timeline

    grid = load_case("case9")
    spec = RestorationSpec.model_validate({"crews": 3, "inspection_kmh": 5.0,
                                           "horizon_h": 2.0})
    res = restore(grid, Timeline(grid=grid, mode="dc"), spec=spec)
    assert (res.params.crews, res.params.inspection_kmh, res.params.horizon_h) == (3, 5.0, 2.0)
    base = load_params("venezuela2019")
    assert base.crews == 24 and base.workforce_fraction == pytest.approx(0.34)


def test_bad_restoration_section_names_the_field(tmp_path: Path) -> None:
    from blackout.errors import ScenarioError

    path = tmp_path / "bad.yaml"
    path.write_text(GURI_ONLY + "restoration:\n  crews: 0\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad.yaml.*restoration\.crews"):
        load_scenario(path)
    path.write_text(GURI_ONLY + "restoration:\n  interference:\n    - {name: x, at_h: 1, "
                    "damage: [{repair_h: 3}]}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"restoration\.interference\[0\]\.damage\[0\]"):
        load_scenario(path)
