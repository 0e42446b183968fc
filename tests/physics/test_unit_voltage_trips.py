"""Under-voltage unit trips: settings outside PRC-024-2's low-voltage ride-through, the
timers on each unit's bus voltage, and what the engine says where it cannot act.

Times are simulated seconds (no wall clock); voltages in pu, exact.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from blackout import load_case
from blackout.cascade import CascadeSettings, simulate
from blackout.cascade.unit_voltage import UnitVoltageRelays
from blackout.events import Event
from blackout.flow import PowerFlowResult, run_ac
from blackout.physics.unit_trips import (
    PRC024_LOW_VOLTAGE,
    UnitTripSettings,
    default_unit_trips,
    inside_envelope,
    voltage_stages,
)


@pytest.fixture(scope="module")
def case14():  # type: ignore[no-untyped-def]
    return load_case("case14")


def test_default_stages_lie_outside_the_ride_through_envelope() -> None:
    table = default_unit_trips()
    for kind in ("steam", "gas", "hydro"):
        assert table[kind].under_voltage, kind
        for thr, delay in table[kind].under_voltage:
            assert not inside_envelope("under", thr, delay, list(PRC024_LOW_VOLTAGE))
    assert not table["svc"].under_voltage


def test_a_stage_inside_the_envelope_is_refused() -> None:
    # below 0.90 pu a unit must ride through 3 s: a 0.85 pu / 2 s stage would trip inside
    table = {"steam": UnitTripSettings(under_voltage=((0.85, 2.0),))}
    with pytest.raises(ValueError, match="inside the ride-through envelope"):
        voltage_stages(np.array(["steam"]), table)
    assert voltage_stages(np.array(["steam"]), {"steam": UnitTripSettings(
        under_voltage=((0.85, 3.0),))})[0].threshold_pu == 0.85


def test_seeded_spread_moves_thresholds_down_and_repeats() -> None:
    kinds = np.array(["steam"] * 5)
    table = default_unit_trips()
    a = voltage_stages(kinds, table, spread_pu=0.02, seed=4)
    b = voltage_stages(kinds, table, spread_pu=0.02, seed=4)
    assert [(s.threshold_pu, s.gens) for s in a] == [(s.threshold_pu, s.gens) for s in b]
    nominal = {thr for thr, _ in table["steam"].under_voltage}
    assert all(s.threshold_pu <= max(nominal) for s in a)
    assert len({s.threshold_pu for s in a}) > 3          # units no longer all identical


def _with_vm(flow: PowerFlowResult, bus: int, vm: float) -> PowerFlowResult:
    v = np.array(flow.bus["vm_pu"], dtype=float)
    v[bus] = vm
    return replace(flow, bus={**flow.bus, "vm_pu": v})


def test_unit_trips_after_its_delay_below_its_threshold_only(case14) -> None:  # type: ignore[no-untyped-def]
    flow = run_ac(case14)
    kinds = np.asarray(case14.gen["kind"]).astype(str)
    g = 1
    table = {str(k): UnitTripSettings() for k in set(kinds.tolist())}
    table[str(kinds[g])] = UnitTripSettings(under_voltage=((0.85, 10.0),))
    stages = voltage_stages(kinds, table)
    relays = UnitVoltageRelays(case14, stages)
    bus = int(case14.gen["bus"][g])
    on = np.ones(case14.gen.n, dtype=bool)
    relays.observe(0.0, _with_vm(flow, bus, 0.84), on, None)
    assert relays.deadlines() == [10.0]
    assert relays.actions_due(9.9, on) == []
    relays.observe(5.0, _with_vm(flow, bus, 0.90), on, None)   # recovers: the timer stops
    assert relays.deadlines() == []
    relays.observe(6.0, _with_vm(flow, bus, 0.80), on, 7)
    trips = relays.actions_due(16.0, on)
    assert [(e.element, e.cause, e.caused_by) for e in trips] == [(g, "under-voltage", 7)]
    assert trips[0].detail["mechanism"] == "unit_trip_under_voltage"


def test_dc_steps_have_no_voltage_and_stop_the_timers(case14) -> None:  # type: ignore[no-untyped-def]
    flow = run_ac(case14)
    relays = UnitVoltageRelays(case14, [replace(voltage_stages(
        np.array(["steam"]), {"steam": UnitTripSettings(under_voltage=((0.85, 3.0),))})[0],
        gens=(0,))])
    on = np.ones(case14.gen.n, dtype=bool)
    relays.observe(0.0, _with_vm(flow, int(case14.gen["bus"][0]), 0.5), on, None)
    assert relays.deadlines() == [3.0]
    relays.observe(1.0, replace(flow, mode="dc"), on, None)
    assert relays.deadlines() == []


@pytest.mark.parametrize(("mode", "q_limits", "says"), [
    ("dc", False, "DC mode has no voltages"),
    ("ac", False, "reactive limits are off"),
])
def test_engine_says_where_under_voltage_trips_cannot_act(case14, mode, q_limits,  # type: ignore[no-untyped-def]
                                                          says) -> None:
    ev = [Event(0.0, "branch", 0, "trip", cause="test")]
    tl = simulate(case14, ev, settings=CascadeSettings(mode=mode, q_limits=q_limits,
                                                       horizon_s=30.0))
    s = tl.summary()
    assert any(says in n for n in s["modelling_notes"])
    assert "generation_tripped_mw_by_protection" in s
    assert "generation_tripped_mw_by_kind" in s


def test_engine_trips_units_held_below_their_setting_with_reactive_limits(case14) -> None:  # type: ignore[no-untyped-def]
    """case14 at 1.5 x load with its units' qmax cut to 30 %: with reactive limits the
    units at buses 3, 6 and 8 sit at qmax with 0.78-0.79 pu at their buses, below the
    0.85 pu / 10 s stage of their kind ("unknown" uses the steam table): they trip at
    t = 10 s by their own relay; without reactive limits they hold their setpoints."""
    g = case14
    grid = g.replace(load=g.load.with_columns(p_mw=g.load["p_mw"] * 1.5,
                                              q_mvar=g.load["q_mvar"] * 1.5),
                     gen=g.gen.with_columns(p_mw=g.gen["p_mw"] * 1.5,
                                            qmax_mvar=g.gen["qmax_mvar"] * 0.3))
    trips = {}
    for q_limits in (True, False):
        tl = simulate(grid, [], settings=CascadeSettings(q_limits=q_limits, horizon_s=60.0))
        trips[q_limits] = [(e.time_s, e.element) for e in tl.events
                           if e.kind == "gen" and e.cause == "under-voltage"]
    assert trips[True] == [(pytest.approx(10.0), 2), (pytest.approx(10.0), 3),
                           (pytest.approx(10.0), 4)]
    assert trips[False] == []
