"""Wildfire threat on the hand-checkable square grid (see conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from blackout.grid.model import Grid
from blackout.threats.base import Resolver
from blackout.threats.effects import RestorationEffects
from blackout.threats.wildfire import WildfireSpec, wildfire_effects

# A vertical strip 0.4 <= lon <= 0.6 crossing "south" and "north" only.
STRIP = [[0.4, -0.1], [0.6, -0.1], [0.6, 1.1], [0.4, 1.1]]


def run(grid: Grid, spec: dict, *, seed: int = 0, horizon_s: float = 600.0):
    fx = wildfire_effects(grid, WildfireSpec(**spec), rng=np.random.default_rng(seed),
                          resolver=Resolver(grid), horizon_s=horizon_s)
    return [(e.time_s, e.action, str(grid.branch["name"][e.element]), e.value)
            for e in fx.events], fx


def test_strip_derates_and_faults_exactly_the_two_lines_it_crosses(grid: Grid) -> None:
    events, fx = run(grid, {"polygons": [{"time_s": 0, "coords": STRIP}],
                            "fault_probability_per_min": 1.0, "derate": 0.7})
    assert events == [(0.0, "derate", "south", 0.7), (0.0, "derate", "north", 0.7),
                      (60.0, "trip", "south", None), (60.0, "trip", "north", None)]
    assert fx.restoration == RestorationEffects(
        reclose_locked_until_s={"south": 600.0, "north": 600.0})
    trips = [e for e in fx.events if e.action == "trip"]
    assert all(e.detail["reclose"].startswith("locked out") for e in trips)


def test_polygon_over_time_reaches_the_second_line_later(grid: Grid) -> None:
    small = [[0.4, -0.1], [0.6, -0.1], [0.6, 0.2], [0.4, 0.2]]  # only "south"
    events, _ = run(grid, {"polygons": [{"time_s": 0, "coords": small},
                                        {"time_s": 300, "coords": STRIP}],
                           "fault_probability_per_min": 1.0})
    assert [(t, a, n) for t, a, n, _ in events] == [
        (0.0, "derate", "south"), (60.0, "trip", "south"),
        (300.0, "derate", "north"), (360.0, "trip", "north")]


def test_no_fault_with_zero_probability_and_rating_restored_when_fire_ends(grid: Grid) -> None:
    events, _ = run(grid, {"polygons": [{"time_s": 0, "coords": STRIP}], "end_s": 300,
                           "fault_probability_per_min": 0.0, "derate": 0.8})
    assert [(t, a, n) for t, a, n, _ in events] == [
        (0.0, "derate", "south"), (0.0, "derate", "north"),
        (300.0, "derate", "south"), (300.0, "derate", "north")]
    assert events[-1][3] == 1.0  # the rating factor is absolute: back to the full rating


def test_common_mode_trips_the_parallel_circuit_of_the_corridor(grid2: Grid) -> None:
    # the fire crosses only the route given for "south"; "south 2" runs far away
    spec = {"polygons": [{"time_s": 0, "coords": [[0.4, -0.1], [0.6, -0.1], [0.6, 0.1],
                                                  [0.4, 0.1]]}],
            "routes": {"south 2": [[0.0, 0.0], [0.0, -0.5], [1.0, -0.5], [1.0, 0.0]]},
            "fault_probability_per_min": 1.0}
    together, _ = run(grid2, {**spec, "common_mode_probability": 1.0})
    assert [(t, a, n) for t, a, n, _ in together if a == "trip"] == [
        (60.0, "trip", "south"), (60.0, "trip", "south 2")]
    alone, _ = run(grid2, {**spec, "common_mode_probability": 0.0})
    assert [n for _, a, n, _ in alone if a == "trip"] == ["south"]


def test_ignition_spreads_downwind_and_reaches_lines_in_order(grid: Grid) -> None:
    # ignition just south of "south", wind from the south: the head runs north at
    # 0.5 km/min, reaching "south" (5.53 km away) before "north" (116.1 km)
    spec = {"ignition": {"lon": 0.5, "lat": -0.05, "spread_m_per_min": 500,
                         "wind_from_deg": 180, "length_to_breadth": 3},
            "fault_probability_per_min": 0.0, "step_s": 60}
    events, _ = run(grid, spec, horizon_s=4.5 * 3600)
    derates = [(t, n) for t, a, n, _ in events if a == "derate"]
    assert [n for _, n in derates] == ["south", "north"]
    assert derates[0][0] == 720.0              # 11.1 min, first whole minute after
    assert derates[1][0] == 13980.0            # 232.2 min
    # no wind, same fire: a circle; it never reaches "west" (55 km away) in 30 min
    calm, _ = run(grid, {**spec, "ignition": {**spec["ignition"], "wind_from_deg": None}},
                  horizon_s=1800)
    assert [n for _, a, n, _ in calm if a == "derate"] == ["south"]


def test_vegetation_load_raises_the_fault_hazard(grid: Grid) -> None:
    def first_fault_s(v: float, seed: int) -> float:
        events, _ = run(grid, {"polygons": [{"time_s": 0, "coords": STRIP}],
                               "fault_probability_per_min": 0.05, "vegetation_load": v,
                               "common_mode_probability": 0.0}, seed=seed, horizon_s=7200)
        trips = [t for t, a, n, _ in events if a == "trip" and n == "south"]
        return trips[0] if trips else 7200.0

    light = np.mean([first_fault_s(1.0, s) for s in range(40)])
    heavy = np.mean([first_fault_s(5.0, s) for s in range(40)])
    # geometric waiting times: mean 1/p minutes; 20 min at v = 1, ~4.4 min at v = 5
    assert heavy < 0.5 * light
    assert 8 * 60 < light < 35 * 60


def test_same_seed_same_events_and_transformers_never_exposed(grid: Grid) -> None:
    square = [[-0.1, -0.1], [0.1, -0.1], [0.1, 0.1], [-0.1, 0.1]]  # around A and A2
    spec = {"polygons": [{"time_s": 0, "coords": square}], "fault_probability_per_min": 0.3}
    a, _ = run(grid, spec, seed=7, horizon_s=3600)
    b, _ = run(grid, spec, seed=7, horizon_s=3600)
    assert a == b
    assert {n for _, _, n, _ in a} == {"south", "west"}


@pytest.mark.parametrize(("spec", "message"), [
    ({"polygons": [{"time_s": 0, "coords": [[0, 0], [1, 1], [1, 0], [0, 1]]}]},
     "invalid polygon: Self-intersection"),
    ({"polygons": [{"time_s": 0, "coords": [[0, 0], [1, 1], [0, 0]]}]}, "at least 3"),
    ({"polygons": [{"time_s": 0, "coords": [[0, 0], [200, 1], [1, 0]]}]}, "[-180, 180]"),
    ({"polygons": [{"time_s": 60, "coords": STRIP}, {"time_s": 60, "coords": STRIP}]},
     "strictly increasing"),
    ({}, "exactly one of 'polygons'"),
    ({"polygons": [{"time_s": 0, "coords": STRIP}], "fault_probability_per_min": 1.5},
     "less than or equal to 1"),
    ({"polygons": [{"time_s": -5, "coords": STRIP}]}, "greater than or equal to 0"),
    ({"polygons": [{"time_s": 0, "coords": STRIP}], "wind": 3}, "unknown field 'wind'"),
])
def test_invalid_specs_are_rejected_with_a_reason(spec: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        WildfireSpec(**spec)
