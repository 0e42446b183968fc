"""Cyber primitives on the square grid: each produces exactly its events at its times."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from blackout.errors import ScenarioError
from blackout.grid.model import Grid
from blackout.threats.base import Resolver
from blackout.threats.cyber import CyberSpec, cyber_effects
from blackout.threats.effects import (
    BlindWindow,
    EngineOverrides,
    Repair,
    RestorationInterference,
)


def run(grid: Grid, *actions: dict, horizon_s: float = 600.0):
    fx = cyber_effects(grid, CyberSpec(actions=list(actions), entry_vector="VPN"),
                       rng=np.random.default_rng(0), resolver=Resolver(grid),
                       horizon_s=horizon_s)
    tables = {"branch": grid.branch, "gen": grid.gen, "load": grid.load, "region": grid.region}
    rows = [(e.time_s, e.kind, str(tables[e.kind]["name"][e.element]) if e.element >= 0
             else "*", e.action, e.value) for e in fx.events]
    return rows, fx


def test_open_breakers_at_a_substation_opens_its_branches_and_feeders(grid: Grid) -> None:
    rows, _ = run(grid, {"do": "open_breakers", "at_s": 10, "substations": ["B", "C"],
                         "spacing_s": 30})
    assert rows == [(10.0, "branch", "south", "trip", None), (10.0, "branch", "east", "trip", None),
                    (10.0, "load", "L-B", "shed", 1.0),
                    (40.0, "branch", "north", "trip", None), (40.0, "branch", "west", "trip", None),
                    (40.0, "load", "L-C", "shed", 1.0)]


def test_open_breakers_can_include_units(grid: Grid) -> None:
    rows, fx = run(grid, {"do": "open_breakers", "substations": ["D"], "what": ["gens"]})
    assert rows == [(0.0, "gen", "G2", "trip", None)]
    assert fx.events[0].detail["entry_vector"] == "VPN" and "at D" in fx.events[0].cause


def test_unit_primitives(grid: Grid) -> None:
    rows, fx = run(grid,
                   {"do": "trip_units", "at_s": 5, "units": ["G1"], "damage_repair_h": 720},
                   {"do": "set_output", "at_s": 1, "units": ["G2"], "fraction": 0.5},
                   {"do": "set_output", "at_s": 2, "units": ["G1"], "p_mw": 10},
                   {"do": "set_droop", "at_s": 3, "units": ["G1", "G2"], "droop_pu": 0})
    assert rows == [(1.0, "gen", "G2", "set_p", 20.0), (2.0, "gen", "G1", "set_p", 10.0),
                    (3.0, "gen", "G1", "set_droop", 0.0), (3.0, "gen", "G2", "set_droop", 0.0),
                    (5.0, "gen", "G1", "trip", None)]
    assert fx.restoration.repairs == (Repair(element="gen", name="G1", repair_h=720),)


def test_oscillating_setpoint_is_a_sine_around_the_dispatch(grid: Grid) -> None:
    rows, _ = run(grid, {"do": "oscillate_setpoint", "at_s": 100, "units": ["G2"],
                         "amplitude_mw": 20, "period_s": 8, "duration_s": 16,
                         "steps_per_period": 4})
    # G2 dispatch 40 MW: 60, 40, 20, 40, 60, 40, 20, then back to 40 at the end
    assert [r[0] for r in rows] == [100.0 + 2 * k for k in range(1, 9)]
    assert [r[4] for r in rows] == pytest.approx([60, 40, 20, 40, 60, 40, 20, 40], abs=1e-9)


def test_block_protection_then_reduced_rating_and_block_ufls(grid: Grid) -> None:
    rows, _ = run(grid,
                  {"do": "block_protection", "at_s": 0, "until_s": 300,
                   "branches": ["north", "west"], "derate_after": 0.9},
                  {"do": "block_ufls", "at_s": 0, "regions": ["North"]},
                  {"do": "block_ufls", "at_s": 50})
    assert rows == [(0.0, "branch", "north", "block_relay", None),
                    (0.0, "branch", "west", "block_relay", None),
                    (0.0, "region", "North", "block_ufls", None),
                    (50.0, "ufls", "*", "block_ufls", None),
                    (300.0, "branch", "north", "unblock_relay", None),
                    (300.0, "branch", "north", "derate", 0.9),
                    (300.0, "branch", "west", "unblock_relay", None),
                    (300.0, "branch", "west", "derate", 0.9)]


def test_blinding_and_restoration_interference_are_data_not_events(grid: Grid) -> None:
    rows, fx = run(grid, {"do": "blind_operator", "at_s": 10, "until_s": 400,
                          "mode": "false_data"},
                   {"do": "interfere_restoration", "at_s": 20, "slowdown_factor": 3,
                    "bricked_substations": ["A"]})
    assert rows == []
    assert fx.settings == EngineOverrides(operator_blind=(
        BlindWindow(from_s=10.0, until_s=400.0, mode="false_data"),))
    assert fx.restoration.interference == RestorationInterference(
        from_s=20.0, reclose_fails=True, slowdown_factor=3.0, bricked_substations=("A",))


def test_unknown_names_list_the_closest_and_name_the_field(grid: Grid) -> None:
    with pytest.raises(ScenarioError, match=r"actions\[1\]\.units\[0\].*no gen named 'G3'.*"
                                            r"closest: G2, G1"):
        run(grid, {"do": "set_droop", "units": ["G1"], "droop_pu": 0.1},
            {"do": "trip_units", "units": ["G3"]})
    with pytest.raises(ScenarioError, match=r"actions\[0\]\.branches\[0\].*no branch named "
                                            r"'nort'.*closest: north"):
        run(grid, {"do": "block_protection", "branches": ["nort"]})


def test_primitive_after_the_horizon_is_an_error(grid: Grid) -> None:
    with pytest.raises(ScenarioError, match=r"actions\[0\]\.at_s.*after the horizon"):
        run(grid, {"do": "trip_units", "at_s": 700, "units": ["G1"]}, horizon_s=600)


@pytest.mark.parametrize(("action", "message"), [
    ({"do": "explode", "units": ["G1"]}, "does not match any of the expected tags"),
    ({"do": "block_protection", "branches": ["north"], "at_s": 50, "until_s": 20},
     "must be after at_s"),
    ({"do": "set_output", "units": ["G1"]}, "exactly one of 'p_mw' or 'fraction'"),
    ({"do": "set_droop", "units": ["G1"], "droop_pu": -0.1}, "greater than or equal to 0"),
    ({"do": "trip_units", "units": ["G1"], "at_s": "3 fortnights"}, "unknown time unit"),
])
def test_invalid_primitives(action: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CyberSpec(actions=[action])


def test_times_accept_units() -> None:
    spec = CyberSpec(actions=[{"do": "trip_units", "units": ["G1"], "at_s": "2 min"}])
    assert spec.actions[0].at_s == 120.0
