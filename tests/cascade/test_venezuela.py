"""Venezuela, 7 March 2019: outcomes of losing 1, 2 or 3 Guri-Malena 765 kV circuits.

Nothing here is scripted: only the initiating fire trips are given; the rest must
come from the relays, the frequency model and the sourced case.
"""

from __future__ import annotations

import pytest

from blackout import load_case
from blackout.cascade import CascadeSettings, simulate
from blackout.events import Event

LOWER_CARONI = ("Guri", "Caruachi", "Macagua")


@pytest.fixture(scope="module")
def grid():  # type: ignore[no-untyped-def]
    return load_case("venezuela2019")


@pytest.fixture(scope="module")
def run(grid):  # type: ignore[no-untyped-def]
    cache = {}

    def _run(n: int):  # type: ignore[no-untyped-def]
        if n not in cache:
            ev = [Event(0.0, "branch", grid.find("branch", f"Guri-Malena 765 kV {k}"), "trip",
                        cause="vegetation fire") for k in range(1, n + 1)]
            cache[n] = simulate(grid, ev, settings=CascadeSettings(horizon_s=600.0))
        return cache[n]

    return _run


def test_one_circuit_loses_no_load(run) -> None:  # type: ignore[no-untyped-def]
    s = run(1).summary()
    assert s["load_lost_mw"] < 1.0
    assert s["regions_dark"] == []
    assert s["trips_by_cause"] == {"vegetation fire": 1}


def test_two_circuits_overload_the_third_then_collapse(run, grid) -> None:  # type: ignore[no-untyped-def]
    tl = run(2)
    third = grid.find("branch", "Guri-Malena 765 kV 3")
    trip = next(e for e in tl.events if e.element == third and e.kind == "branch")
    assert trip.cause == "overload"
    assert tl.events[tl.chain(tl.events.index(trip))[-1]].cause == "vegetation fire"
    # the inverse-time setting: ∫(I/I_rate - 1) dt = 7.5 s at roughly constant loading
    ratio = trip.detail["loading_percent"] / 100.0
    assert trip.time_s == pytest.approx(7.5 / (ratio - 1.0), rel=0.05)
    assert len(tl.regions_dark(60.0)) >= 20


def test_three_circuits_split_guayana_and_collapse(run, grid) -> None:  # type: ignore[no-untyped-def]
    tl = run(3)
    over = [str(grid.gen["name"][e.element]) for e in tl.events
            if e.kind == "gen" and e.cause == "over-frequency"]
    under = [str(grid.gen["name"][e.element]) for e in tl.events
             if e.kind == "gen" and e.cause == "under-frequency"]
    assert all(any(p in name for name in over) for p in LOWER_CARONI)
    assert under and not any(any(p in n for p in LOWER_CARONI) for n in under)
    s = tl.summary()
    assert max(s["frequency_zenith_hz"].values()) >= 61.8
    assert min(s["frequency_nadir_hz"].values()) <= 57.5
    assert len(tl.regions_dark(60.0)) >= 20
    assert s["regions_total"] == 24
