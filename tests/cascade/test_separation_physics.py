"""Physics at separation (issue "Honest physics at separation"): units within their
limits, per-unit generator protection, loadability-margin shedding, tuned governors.

Tolerances: unit outputs within their limits to 1 % of pmax or 5 MW (the AC slack
takes the change of losses since the previous solve); frequencies to 1e-6 Hz.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from blackout import load_case
from blackout.cascade import CascadeSettings, simulate
from blackout.cascade.engine import Cascade
from blackout.cascade.islands import IslandTracker
from blackout.cascade.state import CascadeState
from blackout.events import Event
from blackout.flow import FlowState, PowerFlowResult
from blackout.flow.balance import participation_weights, share_imbalance
from blackout.physics.frequency import GovernorModel, IslandFrequency
from blackout.physics.protection import ERCOT_OVER_FREQUENCY, ERCOT_UNDER_FREQUENCY
from blackout.physics.unit_trips import default_unit_trips, inside_envelope, unit_stages


# ---------------------------------------------------------------------- the balance rule
@pytest.mark.parametrize("rule", ["pmax", "headroom", "droop"])
def test_share_imbalance_respects_limits_and_conserves(rule: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 8))
        pmax = rng.uniform(10, 200, n)
        pmin = pmax * rng.uniform(0, 0.4, n)
        p = rng.uniform(pmin, pmax)
        delta = float(rng.uniform(-300, 300))
        w = participation_weights(rule, p, pmin, pmax, np.full(n, 0.05), up=delta > 0)
        new, residual = share_imbalance(p, pmin, pmax, w, delta)
        assert np.all(new >= pmin - 1e-9) and np.all(new <= pmax + 1e-9)
        assert new.sum() - p.sum() + residual == pytest.approx(delta, abs=1e-6)
        if residual != 0.0:  # only when every participating unit is at its limit
            at = new >= pmax - 1e-6 if delta > 0 else new <= pmin + 1e-6
            assert np.all(at | (w == 0))


def _island(pm0: list[float], pmax: list[float], load: float, pmin: list[float] | None = None
            ) -> IslandFrequency:
    n = len(pm0)
    model = GovernorModel.reheat_steam()
    return IslandFrequency(
        f0_hz=60.0, models=[model], gens=np.arange(n), h_s_mva=np.full(n, 400.0),
        gain_mw=np.array(pmax) / 0.05, pm0_mw=np.array(pm0, dtype=float),
        pmax_mw=np.array(pmax, dtype=float), group=np.zeros(n, dtype=np.int64),
        load0_mw=load, pmin_mw=None if pmin is None else np.array(pmin, dtype=float))


def test_quasi_steady_keeps_units_within_limits_in_deficit() -> None:
    isl = _island([90.0, 50.0], [100.0, 100.0], load=300.0)
    p, load_factor, dw = isl.quasi_steady()
    assert np.all(p <= 100.0 + 1e-9)
    assert p.sum() == pytest.approx(200.0)            # both at pmax
    assert load_factor * 300.0 == pytest.approx(200.0)  # the rest is load relief
    assert dw < 0


def test_quasi_steady_surplus_never_makes_a_motor() -> None:
    isl = _island([90.0, 50.0], [100.0, 100.0], load=20.0, pmin=[10.0, 5.0])
    p, load_factor, dw = isl.quasi_steady()
    assert np.all(p >= np.array([10.0, 5.0]) - 1e-9)
    assert load_factor >= 1.0 and dw > 0


def test_quasi_steady_small_imbalance_shared_by_droop() -> None:
    isl = _island([50.0, 50.0], [100.0, 300.0], load=110.0)
    p, load_factor, _ = isl.quasi_steady()
    moved = p - 50.0
    assert moved[1] == pytest.approx(3 * moved[0], rel=1e-9)   # gain S/R: 3 x the rating
    assert p.sum() + (1 - load_factor) * 110.0 == pytest.approx(110.0, abs=1e-9)


# ---------------------------------------------------------------------- unit protection
def test_default_unit_settings_lie_outside_the_ride_through_envelope() -> None:
    under = [(t, d) for t, d in ERCOT_UNDER_FREQUENCY]
    over = [(t, d) for t, d in ERCOT_OVER_FREQUENCY]
    for kind, s in default_unit_trips().items():
        for thr, delay in s.under:
            assert not inside_envelope("under", thr, delay, under), kind
        for thr, delay in s.over:
            assert not inside_envelope("over", thr, delay, over), kind


def test_a_setting_inside_the_envelope_is_refused() -> None:
    under = list(ERCOT_UNDER_FREQUENCY)
    assert inside_envelope("under", 58.2, 5.0, under)       # must ride through 30 s there
    assert inside_envelope("under", 59.6, 1000.0, under)    # continuous operation band
    assert not inside_envelope("under", 57.4, 0.0, under)
    table = {"steam": replace(default_unit_trips()["steam"], under=((58.2, 5.0),))}
    with pytest.raises(ValueError, match="inside the ride-through envelope"):
        unit_stages(np.array(["steam"]), 60.0, table, under, list(ERCOT_OVER_FREQUENCY))


def test_spread_gives_each_unit_its_own_setting_deterministically() -> None:
    kinds = np.array(["steam"] * 6)
    args = (kinds, 60.0, default_unit_trips(), list(ERCOT_UNDER_FREQUENCY),
            list(ERCOT_OVER_FREQUENCY))
    a = unit_stages(*args, spread_hz=0.2, seed=4)
    b = unit_stages(*args, spread_hz=0.2, seed=4)
    assert a == b
    first = {st.threshold_hz for st in a if st.kind == "under" and st.delay_s == 0.3}
    assert len(first) == 6 and max(first) <= 57.2 + 1e-9


# ---------------------------------------------------------------------- Venezuela
class _Recording(Cascade):
    """The detailed engine, keeping every power-flow result it acted on."""

    flows: list[tuple[FlowState, PowerFlowResult]]

    def solve(self, t: float) -> PowerFlowResult:
        result = super().solve(t)
        self.flows.append((self._flow_state(), result))
        return result


@pytest.fixture(scope="module")
def vz():  # type: ignore[no-untyped-def]
    return load_case("venezuela2019")


def _guri_malena(grid, n: int, settings: CascadeSettings | None = None):  # type: ignore[no-untyped-def]
    ev = [Event(0.0, "branch", grid.find("branch", f"Guri-Malena 765 kV {k}"), "trip",
                cause="vegetation fire") for k in range(1, n + 1)]
    c = _Recording(grid, ev, settings or CascadeSettings(horizon_s=600.0))
    c.flows = []
    return c, c.run()


@pytest.fixture(scope="module")
def two(vz):  # type: ignore[no-untyped-def]
    return _guri_malena(vz, 2)


def test_no_unit_outside_its_limits_in_any_state(vz, two) -> None:  # type: ignore[no-untyped-def]
    cascade, _ = two
    pmin = np.asarray(vz.gen["pmin_mw"], dtype=float)
    pmax = np.asarray(vz.gen["pmax_mw"], dtype=float)
    tol = np.maximum(0.01 * pmax, 5.0)
    assert cascade.flows
    for fs, res in cascade.flows:
        on = fs.gen_in
        assert np.all(fs.gen_p_mw[on] <= pmax[on] + 1e-6)
        assert np.all(fs.gen_p_mw[on] >= np.minimum(pmin[on], 0.0) - 1e-6)
        p = np.asarray(res.gen["p_mw"], dtype=float)
        live = np.asarray(res.gen["in_service"], dtype=bool)
        assert np.all(p[live] <= pmax[live] + tol[live])
        assert np.all(p[live] >= -tol[live]), "a generator turned motor"


def test_two_circuits_follow_the_engineers_chain(vz, two) -> None:  # type: ignore[no-untyped-def]
    _, tl = two
    trips = [(e.time_s, tl.element_name(e), e.cause) for e in tl.events
             if e.kind == "branch" and e.action == "trip"]
    third = [t for t in trips if t[1] == "Guri-Malena 765 kV 3"]
    assert third and third[0][2] == "overload"                 # the third overloads
    s = tl.summary()
    zenith = max(s["frequency_zenith_hz"].values())
    nadir = min(s["frequency_nadir_hz"].values())
    assert zenith > 61.0                                        # Guayana separates in surplus
    assert nadir < 57.0                                         # the centre collapses
    assert len(s["regions_dark"]) >= 20


def test_extremes_are_trajectories_not_settings(two) -> None:  # type: ignore[no-untyped-def]
    _, tl = two
    s = tl.summary()
    settings = {st_thr for k in default_unit_trips().values()
                for st_thr, _ in k.under + k.over}
    for value in list(s["frequency_nadir_hz"].values()) + list(s["frequency_zenith_hz"].values()):
        assert all(abs(value - thr) > 1e-3 for thr in settings)
    # the trace runs on through unit trips: samples after the first unit trip of an island
    first = min(e.time_s for e in tl.events if e.kind == "gen" and e.action == "trip")
    assert any(tl.frequency_trace(isl)[:, 0].max() > first for isl in tl.frequency)


def test_units_trip_by_their_own_settings_not_all_at_once(two) -> None:  # type: ignore[no-untyped-def]
    _, tl = two
    unit_trips = [e for e in tl.events if e.kind == "gen" and e.action == "trip"
                  and str(e.detail.get("mechanism", "")).startswith("unit_trip")]
    settings = {(e.detail["threshold_hz"], e.detail["delay_s"]) for e in unit_trips}
    assert len(settings) >= 3
    assert tl.summary()["generation_tripped_mw_by_kind"]


def test_load_lost_by_mechanism_names_unit_trips_by_kind(two) -> None:  # type: ignore[no-untyped-def]
    _, tl = two
    s = tl.summary()
    mech = s["load_lost_by_mechanism_mw"]
    assert {"ufls", "uvls", "voltage_collapse", "operator", "tripped"} <= set(mech)
    assert any(k.startswith("unit_trips_") and v > 0 for k, v in mech.items())
    assert sum(mech.values()) == pytest.approx(s["load_lost_mw"], rel=1e-6)


def test_no_voltage_collapse_shed_in_a_surplus_island(two) -> None:  # type: ignore[no-untyped-def]
    _, tl = two
    surplus = {int(k) for k, z in tl.summary()["frequency_zenith_hz"].items() if z > 60.5}
    for e, isl in zip(tl.events, tl.event_island, strict=True):
        if e.cause == "voltage collapse":
            assert isl not in surplus
            assert "margin_load_scale" in e.detail and e.detail["buses"]


def test_one_circuit_still_loses_no_load(vz) -> None:  # type: ignore[no-untyped-def]
    _, tl = _guri_malena(vz, 1)
    assert tl.summary()["load_lost_mw"] < 1.0


# ---------------------------------------------------------------------- governors
def _halved_inertia(grid):  # type: ignore[no-untyped-def]
    gen = {k: np.array(v) for k, v in grid.gen.items()}
    gen["inertia_h_s"] = gen["inertia_h_s"] * 0.5
    return grid.replace(gen=gen)


def test_tuned_hydro_governors_are_stable_at_half_inertia(vz) -> None:  # type: ignore[no-untyped-def]
    low = _halved_inertia(vz)
    for tuned in (True, False):
        settings = CascadeSettings(tune_hydro_governors=tuned)
        tracker = IslandTracker(low, settings)
        tracker.rebuild(CascadeState.of(low), [], None)
        mode = max((isl.freq.least_stable_mode() for isl in tracker.islands),
                   key=lambda m: m.real)
        if tuned:
            assert mode.real < 0
        else:  # the fixed CIM typical (r 0.3, Tr 5 s) is unstable here, as reported
            assert mode.real > 0


def test_unstable_frequency_model_is_warned(vz) -> None:  # type: ignore[no-untyped-def]
    low = _halved_inertia(vz)
    tl = simulate(low, [], settings=CascadeSettings(tune_hydro_governors=False, horizon_s=5.0))
    assert any("unstable" in w and "eigenvalue" in w for w in tl.summary()["warnings"])
    tl = simulate(low, [], settings=CascadeSettings(horizon_s=5.0))
    assert not tl.summary()["warnings"]

