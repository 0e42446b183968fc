"""Sabotage and neglect on the square grid."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from blackout.errors import ScenarioError
from blackout.grid.model import Grid
from blackout.threats.base import Resolver
from blackout.threats.effects import EngineOverrides
from blackout.threats.neglect import NeglectSpec, neglect_effects, vegetation_factor
from blackout.threats.sabotage import SabotageSpec, sabotage_effects


def names(grid: Grid, events) -> list[tuple[float, str, str]]:
    return [(e.time_s, str(getattr(grid, e.kind)["name"][e.element]), e.action) for e in events]


def test_destroyed_substation_trips_everything_at_it_with_repair_time(grid: Grid) -> None:
    spec = SabotageSpec(at_s=30, method="explosive",
                        targets=[{"substation": "D", "repair_h": 240},
                                 {"branch": "west", "repair_h": 48, "at_s": 60}])
    fx = sabotage_effects(grid, spec, rng=np.random.default_rng(0), resolver=Resolver(grid),
                          horizon_s=600)
    assert names(grid, fx.events) == [(30.0, "north", "trip"), (30.0, "east", "trip"),
                                      (30.0, "G2", "trip"), (60.0, "west", "trip")]
    assert [(r.name, r.repair_h) for r in fx.restoration.repairs] == [
        ("north", 240.0), ("east", 240.0), ("G2", 240.0), ("west", 48.0)]


def test_lognormal_repair_is_seeded(grid: Grid) -> None:
    spec = SabotageSpec(targets=[{"unit": "G1", "repair_h_median": 100, "repair_sigma": 0.5}])

    def repair(seed: int) -> float:
        fx = sabotage_effects(grid, spec, rng=np.random.default_rng(seed),
                              resolver=Resolver(grid), horizon_s=60)
        return fx.restoration.repairs[0].repair_h

    assert repair(1) == repair(1)
    draws = [repair(s) for s in range(200)]
    assert 80 < float(np.median(draws)) < 125


def test_sabotage_validation(grid: Grid) -> None:
    with pytest.raises(ValidationError, match="exactly one of 'substation'"):
        SabotageSpec(targets=[{"substation": "A", "branch": "west", "repair_h": 1}])
    with pytest.raises(ValidationError, match="exactly one of 'repair_h'"):
        SabotageSpec(targets=[{"substation": "A"}])
    spec = SabotageSpec(targets=[{"substation": "Q", "repair_h": 1}])
    with pytest.raises(ScenarioError, match=r"targets\[0\]\.substation.*no bus named 'Q'"):
        sabotage_effects(grid, spec, rng=np.random.default_rng(0), resolver=Resolver(grid),
                         horizon_s=60)


def test_neglect_settings_restoration_data_and_fuel_caps(grid: Grid) -> None:
    spec = NeglectSpec(hidden_failure_p=0.2, crews_fraction=0.35, operator_delay_s="5 min",
                       fuel_shortage={"available_fraction": 0.25})
    fx = neglect_effects(grid, spec, rng=np.random.default_rng(0), resolver=Resolver(grid),
                         horizon_s=600)
    assert fx.events == ()
    assert fx.settings == EngineOverrides(hidden_failure_p=0.2, operator_delay_s=300.0)
    assert fx.restoration.crews_fraction == 0.35
    assert fx.restoration.fuel_caps_mw == {"G2": 25.0}
    assert fx.pmax_caps_mw == {1: 25.0}  # only G2 is thermal (steam), 0.25 x 100 MW


def test_tree_contact_only_when_vegetation_reaches_the_flashover_gap(grid: Grid) -> None:
    def trips(years: float) -> list[tuple[float, str, str]]:
        spec = NeglectSpec(vegetation={"years_since_clearing": years, "growth_m_per_year": 2,
                                       "corridors": ["S", "N"], "conductor_clearance_m": 15,
                                       "flashover_distance_m": 5,
                                       "contact_probability_per_min": 1.0})
        fx = neglect_effects(grid, spec, rng=np.random.default_rng(0),
                             resolver=Resolver(grid), horizon_s=600)
        return names(grid, fx.events)

    assert trips(4) == []                                       # 8 m: gap 7 m > 5 m
    assert trips(6) == [(60.0, "south", "trip"), (60.0, "north", "trip")]  # 12 m: gap 3 m


def test_vegetation_factor_and_unknown_corridor(grid: Grid) -> None:
    spec = NeglectSpec(vegetation={"years_since_clearing": 4, "growth_m_per_year": 1.5,
                                   "corridors": ["Z"]})
    assert vegetation_factor(spec) == pytest.approx(6.0)
    with pytest.raises(ScenarioError, match=r"vegetation\.corridors\[0\].*no corridor named 'Z'"):
        neglect_effects(grid, spec, rng=np.random.default_rng(0), resolver=Resolver(grid),
                        horizon_s=600)
    with pytest.raises(ValidationError, match="at least one of"):
        NeglectSpec()
