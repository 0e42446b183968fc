"""PRC-006 design basis: UFLS arrests a 25 % deficit; a 60 % deficit collapses the island."""

from __future__ import annotations

import pytest

from blackout.cascade import CascadeSettings, simulate
from blackout.events import Event

SETTINGS = CascadeSettings(mode="dc", horizon_s=600.0)


def lose_unit_b(grid):  # type: ignore[no-untyped-def]
    return simulate(grid, [Event(0.0, "gen", 1, "trip", cause="unit B fault")],
                    settings=SETTINGS)


def test_25_percent_deficit_is_arrested_by_ufls(make_island) -> None:  # type: ignore[no-untyped-def]
    tl = lose_unit_b(make_island(load_mw=1000.0, gen_a_mw=750.0, gen_b_mw=250.0))
    causes = [e.cause for e in tl.events]
    assert "ufls" in causes
    assert not any(e.kind == "gen" and e.cause == "under-frequency" for e in tl.events)
    nadir = tl.summary()["frequency_nadir_hz"]["0"]
    assert nadir > 58.4  # above the envelope's 30 s step (and far above 58.0 / 57.5 Hz)
    shed = sum(e.detail["mw"] for e in tl.events if e.cause == "ufls")
    assert shed <= 0.25 * 1000.0 + 1e-6
    assert tl.summary()["load_lost_percent"] == pytest.approx(100 * shed / 1000.0)


def test_60_percent_deficit_collapses_through_generator_trips(make_island) -> None:  # type: ignore[no-untyped-def]
    tl = lose_unit_b(make_island(load_mw=1000.0, gen_a_mw=400.0, gen_b_mw=600.0))
    trips = [e for e in tl.events if e.kind == "gen" and e.cause == "under-frequency"]
    assert [e.element for e in trips] == [0]
    assert tl.summary()["load_lost_percent"] == pytest.approx(100.0)
    assert tl.summary()["time_to_collapse_s"] < 5.0


def test_surplus_trips_units_on_over_frequency(make_island) -> None:  # type: ignore[no-untyped-def]
    grid = make_island(load_mw=1000.0, gen_a_mw=500.0, gen_b_mw=500.0)
    tl = simulate(grid, [Event(0.0, "load", 0, "shed", cause="load rejection", value=0.9)],
                  settings=SETTINGS)
    assert {e.element for e in tl.events if e.cause == "over-frequency"} == {0, 1}
