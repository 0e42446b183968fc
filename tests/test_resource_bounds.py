"""Every resource of a run is bounded (issue 24): values the engine cannot resolve, or
that would grow a run without end, are exit 2 naming the field, in seconds.

The bounds live in :mod:`blackout.bounds`; the schema checks them on load, the threat
models before they expand a threat into events, the engine while it runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from blackout import bounds
from blackout.cascade import CascadeSettings, engine, simulate
from blackout.cases import load_case
from blackout.cli import commands  # noqa: F401  (registers the commands)
from blackout.cli.app import app
from blackout.errors import BlackoutError, ResourceLimitError
from blackout.events import Event

runner = CliRunner()

FIRE = """name: fire
case: case39
horizon_s: {horizon}
threats:
  - kind: wildfire
    ignition: {{lon: 0, lat: 0, spread_m_per_min: 50}}
    step_s: {step}
"""

OSCILLATE = """name: oscillate
case: case39
horizon_s: 600
threats:
  - kind: cyber
    actions:
      - {{do: oscillate_setpoint, units: ["gen 30", "gen 31"], amplitude_mw: 10,
         period_s: {period}, steps_per_period: {steps}, duration_s: {duration}}}
"""

HORIZON = """name: long
case: case39
horizon_s: {horizon}
threats:
  - kind: cyber
    actions:
      - {{do: open_breakers, branches: ["4-14"]}}
"""


def _run_cli(tmp_path: Path, text: str, *extra: str) -> tuple[int, str, float]:
    """``blackout run FILE`` on ``text``: (exit code, stderr, wall time in s)."""
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    t0 = time.monotonic()
    res = runner.invoke(app, ["run", str(path), *extra])
    return res.exit_code, res.stderr, time.monotonic() - t0


def _assert_one_line(code: int, err: str, wall_s: float, *needles: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err
    assert wall_s < 5.0


def test_wildfire_step_below_the_engine_resolution(tmp_path: Path) -> None:
    code, err, wall = _run_cli(tmp_path, FIRE.format(horizon=600, step="1e-9"))
    _assert_one_line(code, err, wall, "scenario.yaml: field threats[0].step_s (line 7)",
                     "greater than or equal to 1")


def test_oscillation_period_below_the_engine_resolution(tmp_path: Path) -> None:
    code, err, wall = _run_cli(tmp_path, OSCILLATE.format(period="1e-6", steps=8,
                                                          duration=600))
    _assert_one_line(code, err, wall, "field threats[0].actions[0].period_s",
                     "greater than or equal to 1")


def test_setpoint_changes_closer_than_the_trace_sampling(tmp_path: Path) -> None:
    code, err, wall = _run_cli(tmp_path, OSCILLATE.format(period=1, steps=100, duration=60))
    _assert_one_line(code, err, wall, "field threats[0].actions[0]",
                     "below the engine's resolution (0.02 s")


def test_horizon_past_thirty_days(tmp_path: Path) -> None:
    code, err, wall = _run_cli(tmp_path, HORIZON.format(horizon="1e12"))
    _assert_one_line(code, err, wall, "field horizon_s (line 3)", "2592000")
    code, err, wall = _run_cli(tmp_path, HORIZON.format(horizon=0))
    _assert_one_line(code, err, wall, "field horizon_s", "greater than 0")


@pytest.mark.parametrize("value", ["1e12", "nan", "0"])
def test_horizon_option_has_the_same_bound(value: str) -> None:
    t0 = time.monotonic()
    res = runner.invoke(app, ["run", "--case", "case39", "--trip", "4-14", "--dc",
                              "--horizon", value])
    _assert_one_line(res.exit_code, res.stderr, time.monotonic() - t0, "--horizon",
                     "2592000")


def test_wildfire_steps_are_capped_naming_step_s(tmp_path: Path) -> None:
    """1 s steps are resolvable, but not for 30 days: 2.6 million steps > the cap."""
    code, err, wall = _run_cli(tmp_path, FIRE.format(horizon=30 * 86400, step=1))
    _assert_one_line(code, err, wall, "field threats[0].step_s (line 7)",
                     "2,592,000 model steps", f"at most {bounds.MAX_MODEL_STEPS:,}")


def test_oscillation_events_are_capped_naming_duration_s(tmp_path: Path) -> None:
    code, err, wall = _run_cli(tmp_path, OSCILLATE.format(period=2, steps=100,
                                                          duration=86400))
    _assert_one_line(code, err, wall, "field threats[0].actions[0].duration_s",
                     "8,640,000 events", f"at most {bounds.MAX_EVENTS_PER_RUN:,}")


def test_a_run_that_needs_too_many_time_steps_stops_naming_the_horizon(
        monkeypatch: pytest.MonkeyPatch) -> None:
    grid = load_case("case39")
    trip = [Event(0.0, "gen", grid.find("gen", "gen 30"), "trip", cause="test")]
    settings = CascadeSettings(mode="dc", horizon_s=600.0)
    full = simulate(grid, trip, settings=settings)
    assert full.end_time_s > 0  # the frequency moves: the run takes several steps
    monkeypatch.setattr(engine, "MAX_STEPS_PER_RUN", 2)
    with pytest.raises(ResourceLimitError, match=r"took 2 time steps .* horizon_s = 600 s"):
        simulate(grid, trip, settings=settings)


def test_a_run_that_schedules_too_many_events_stops_naming_the_last(
        monkeypatch: pytest.MonkeyPatch) -> None:
    grid = load_case("case39")
    monkeypatch.setattr(engine, "MAX_EVENTS_PER_RUN", 3)
    events = [Event(float(k), "branch", grid.find("branch", "4-14"), "derate",
                    cause=f"derate {k}", value=0.9) for k in range(5)]
    with pytest.raises(ResourceLimitError, match=r"more than 3 events .* \(the last: "
                       r"derate 3\)"):
        simulate(grid, events, settings=CascadeSettings(mode="dc", horizon_s=60.0))


def test_the_engine_refuses_a_horizon_past_the_bound() -> None:
    grid = load_case("case39")
    with pytest.raises(ResourceLimitError, match="horizon_s 1e\\+12 s"):
        simulate(grid, [], settings=CascadeSettings(mode="dc", horizon_s=1e12))


# ---------------------------------------------------------------------------- sweeps
SWEEP_SCENARIO = Path(__file__).parent / "data" / "scenarios" / "sweep-case118-dc.yaml"


def test_a_trial_whose_compilation_hangs_is_a_failed_trial_with_its_seed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiling a trial's scenario (threat expansion) runs inside the trial time limit."""
    from blackout.study.sweep import run as sweep
    from blackout.study.sweep import trial
    bad_seed = sweep.trial_seed(0, 1)
    real = trial.compile_scenario

    def hangs_for_trial_1(sc: Any) -> Any:
        while sc.seed == bad_seed:
            time.sleep(0.01)
        return real(sc)

    monkeypatch.setattr(trial, "compile_scenario", hangs_for_trial_1)
    opts = sweep.SweepOptions(load_scale=(0.9, 1.0), trial_time_limit_s=1.0)
    res = sweep.run_sweep(SWEEP_SCENARIO, trials=3, out=tmp_path / "s", options=opts)
    f = res.frame.set_index("trial")
    assert f.loc[1, "status"] == "error" and f.loc[1, "seed"] == bad_seed
    assert "over the trial time limit" in f.loc[1, "error"]
    assert f.loc[1, "wall_s"] < 5.0
    assert (f.loc[[0, 2], "status"] == "ok").all()


def test_a_trial_out_of_memory_while_compiling_is_a_failed_trial(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from blackout.study.sweep import run as sweep
    from blackout.study.sweep import trial
    bad_seed = sweep.trial_seed(0, 0)
    real = trial.compile_scenario

    def oom_for_trial_0(sc: Any) -> Any:
        if sc.seed == bad_seed:
            raise MemoryError
        return real(sc)

    monkeypatch.setattr(trial, "compile_scenario", oom_for_trial_0)
    opts = sweep.SweepOptions(load_scale=(0.9, 1.0), trial_time_limit_s=5.0)
    res = sweep.run_sweep(SWEEP_SCENARIO, trials=2, out=tmp_path / "s", options=opts)
    f = res.frame.set_index("trial")
    assert f.loc[0, "status"] == "error" and f.loc[0, "error"].startswith("MemoryError")
    assert f.loc[0, "seed"] == bad_seed and f.loc[1, "status"] == "ok"


def test_threats_that_never_compile_make_every_trial_a_failed_trial(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep's own compilation (its base snapshot) is bounded too: when the threats
    cannot be expanded in time, the trials still run, each failing within its limit."""
    from blackout.study.sweep import run as sweep
    from blackout.study.sweep import trial
    path = tmp_path / "threatened.yaml"
    path.write_text(SWEEP_SCENARIO.read_text(encoding="utf-8") + (
        "threats:\n  - kind: cyber\n    actions:\n"
        "      - {do: open_breakers, at_s: 10, branches: ['1-2']}\n"), encoding="utf-8")
    real = trial.compile_scenario

    def hangs_with_threats(sc: Any) -> Any:
        while sc.threats:
            time.sleep(0.01)
        return real(sc)

    monkeypatch.setattr(trial, "compile_scenario", hangs_with_threats)
    opts = sweep.SweepOptions(trial_time_limit_s=0.5)
    t0 = time.monotonic()
    res = sweep.run_sweep(path, trials=2, out=tmp_path / "s", options=opts)
    assert time.monotonic() - t0 < 20.0
    f = res.frame
    assert f["status"].tolist() == ["error", "error"]
    assert f["seed"].tolist() == [sweep.trial_seed(0, 0), sweep.trial_seed(0, 1)]
    assert all("over the trial time limit" in e for e in f["error"])


def test_a_snapshot_that_never_compiles_is_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from blackout.study.sweep import run as sweep
    from blackout.study.sweep import trial
    def hangs(sc: Any) -> Any:
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(trial, "compile_scenario", hangs)
    opts = sweep.SweepOptions(trial_time_limit_s=0.5, random_outages=1)
    t0 = time.monotonic()
    with pytest.raises(BlackoutError, match="scenario 'sweep-case118-dc': compiling it took "
                       r"longer than the trial time limit \(0.5 s\)"):
        sweep.run_sweep(SWEEP_SCENARIO, trials=2, out=tmp_path / "s", options=opts)
    assert time.monotonic() - t0 < 5.0


@pytest.mark.parametrize(("threat", "field"), [
    ({"kind": "cyber", "actions": [{"do": "oscillate_setpoint", "units": ["gen 30"],
                                    "amplitude_mw": float("inf"), "period_s": 10,
                                    "duration_s": 60}]}, "threats[0].actions[0].amplitude_mw"),
    ({"kind": "cyber", "actions": [{"do": "set_output", "units": ["gen 30"],
                                    "p_mw": float("inf")}]}, "threats[0].actions[0].p_mw"),
    ({"kind": "wildfire", "step_s": float("nan"),
      "ignition": {"lon": 0, "lat": 0, "spread_m_per_min": 10}}, "threats[0].step_s"),
    ({"kind": "wildfire", "polygons": [{"time_s": 0, "coords": [[0, 0], [1, float("nan")],
                                                                  [1, 1]]}]},
     "threats[0].polygons[0].coords[1][1]"),
])
def test_threat_numbers_are_finite(threat: dict[str, Any], field: str) -> None:
    from blackout.errors import ScenarioError
    from blackout.scenario import load_scenario

    with pytest.raises(ScenarioError) as info:
        load_scenario({"name": "x", "case": "case39", "threats": [threat]})
    assert f"field {field}" in str(info.value)
