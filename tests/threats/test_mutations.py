"""Random mutations of a valid scenario: a valid run or a ScenarioError, never anything else."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blackout.errors import ScenarioError
from blackout.grid.io import write_case
from blackout.scenario import compile_scenario, load_scenario, simulate_compiled

_spec = importlib.util.spec_from_file_location("square_grid_mod",
                                               Path(__file__).parent / "conftest.py")
assert _spec is not None and _spec.loader is not None
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)


STRIP = [[0.4, -0.1], [0.6, -0.1], [0.6, 1.1], [0.4, 1.1]]


def base(case: str) -> dict[str, Any]:
    return {
        "name": "mutant", "case": case, "mode": "dc", "horizon_s": 120, "seed": 1,
        "snapshot": {"load_scale": 1.1, "units_out": [], "fuel_limited": [
            {"unit": "G2", "pmax_mw": 80}]},
        "operator": {"enabled": True, "delay_s": 30},
        "protection": {"hidden_failure_p": 0.1, "ufls": True},
        "threats": [
            {"kind": "wildfire", "start_s": 0, "end_s": 100, "fault_probability_per_min": 0.5,
             "polygons": [{"time_s": 0, "coords": STRIP}], "vegetation_load": 2},
            {"kind": "cyber", "actions": [
                {"do": "set_droop", "at_s": 5, "units": ["G1"], "droop_pu": 0.1},
                {"do": "block_protection", "at_s": 0, "until_s": 60, "branches": ["east"]},
                {"do": "open_breakers", "at_s": 10, "substations": ["C"]},
                {"do": "oscillate_setpoint", "at_s": 0, "units": ["G2"], "amplitude_mw": 5,
                 "period_s": 20, "duration_s": 40}]},
            {"kind": "sabotage", "at_s": 50, "targets": [{"branch": "west", "repair_h": 3}]},
            {"kind": "neglect", "hidden_failure_p": 0.2,
             "fuel_shortage": {"available_fraction": 0.5}},
        ],
    }


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, prefix + (i,))
    return out


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(["G1", "north", "C", "5 min", "-3 s", "wildfire", "cyber", "trip_units",
                     "1e400", "nan", "fire", "G9", "[]"]),
    st.lists(st.floats(-200, 200), max_size=3),
    # fresh objects per draw (st.just would hand out one shared dict that a later
    # "extra" mutation changes, so hypothesis's replay would draw differently)
    st.builds(dict), st.builds(lambda: [[0, 0], [1, 1]]),
)


@st.composite
def mutated(draw: st.DrawFn, case: str) -> dict[str, Any]:
    sc = copy.deepcopy(base(case))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(sc)[1:]))
        parent = sc
        for part in where[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["replace", "delete", "extra"]))
        if op == "replace":
            parent[where[-1]] = draw(VALUES)
        elif op == "delete":
            del parent[where[-1]]
            if isinstance(parent, list):
                break  # later paths may be stale
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "kind", "at_s", "until_s"]))] = draw(VALUES)
    return sc


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("mut") / "square.json"
    write_case(_mod.square_grid(), path)
    return str(path)


def test_the_unmutated_scenario_runs(case_file: str) -> None:
    timeline = simulate_compiled(compile_scenario(load_scenario(base(case_file))))
    assert any("wildfire" in e.cause for e in timeline.events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_scenarios_run_or_raise_scenario_error(case_file: str, data: st.DataObject
                                                        ) -> None:
    scenario = data.draw(mutated(case_file))
    try:
        simulate_compiled(compile_scenario(load_scenario(scenario)))
    except ScenarioError as exc:
        assert str(exc).startswith("<scenario>: ")
