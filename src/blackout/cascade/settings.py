"""Every setting of the cascade engine, with its default and where the default comes from.

One :class:`CascadeSettings` holds the solver mode, the horizon, the protection
settings (line relays, generator envelopes, UFLS, UVLS, out-of-step, hidden
failures), the frequency model and a simple operator. Defaults are published
settings (sources in ``docs/cascade.md`` and in each dataclass below); every one
can be overridden, relays per element or per voltage class, UFLS per region.

``CascadeSettings.simple_dc()`` is the reduced rule shared with the fast batch
engine (no dynamics, no timers): see :mod:`blackout.cascade.simple_dc`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from blackout.flow.balance import Participation
from blackout.physics.frequency import GovernorModel, default_governors
from blackout.physics.protection import (
    ERCOT_OVER_FREQUENCY,
    ERCOT_UNDER_FREQUENCY,
    HiddenFailureSettings,
    OutOfStepSettings,
    RelaySettings,
    UvlsSettings,
)
from blackout.physics.ufls import ERCOT_2026_ANTI_STALL, ERCOT_2026_STAGES, UflsStage
from blackout.physics.unit_trips import UnitTripSettings, default_unit_trips

__all__ = ["CascadeSettings", "OperatorSettings", "from_scenario_settings"]


@dataclass(frozen=True)
class OperatorSettings:
    """A control-room operator relieving overloads that protection leaves standing.

    enabled : whether the operator acts at all.
    delay_s : seconds a branch must stay above its normal rating (``rate_a``) before the
        operator acts; default 600 s, the order of the 10-15 min short-term emergency
        rating (COSMIC allows 10 min at rateC; PRC-023 reference's "15-minute rating").
    redispatch : first move generation from the units that aggravate the overload to those
        that relieve it (within [0, pmax_mw]); then, if still overloaded,
    manual_shed : shed load at the buses whose reduction relieves the overload most.
    min_sensitivity : ignore buses whose flow sensitivity is below this (MW per MW).
    """

    enabled: bool = True
    delay_s: float = 600.0
    redispatch: bool = True
    manual_shed: bool = True
    min_sensitivity: float = 0.05


@dataclass(frozen=True)
class CascadeSettings:
    """Settings of one cascade simulation (all keyword, all with published defaults).

    Parameters
    ----------
    mode : "ac" (Newton-Raphson per island, default) or "dc".
    horizon_s : simulated time limit, s (issue 4: one hour).
    simple : the reduced "simple DC" rule (see :meth:`simple_dc`); ignores dynamics.
    accfm : the AC-CFM rule (see :meth:`accfm_like`); ignores dynamics.
    participation : simple DC rule only: how an island's imbalance is shared among its
        units ("headroom", "pmax" or "droop"; :mod:`blackout.flow.balance`).
    trip_multiple : simple rule only: a branch trips when |P| > trip_multiple * rate_a_mva.
    relay : default line/transformer overload relay (DCSIMSEP/COSMIC inverse time).
    relay_by_kv : relay settings per voltage class, keyed by nominal kV (matched within 5 %).
    relay_by_element : relay settings per branch name (wins over the voltage class).
    under_frequency_envelope, over_frequency_envelope : generator ride-through (no-trip)
        envelopes as ``((threshold_hz_at_60hz, seconds), ...)``; default ERCOT PRC-024-2
        Attachment 1, scaled by ``grid.f_hz / 60``. They are requirements (where units
        must NOT trip), not relay settings: every unit's own settings are checked to lie
        outside them.
    unit_trips : each generator kind's own protection (under/over-frequency stages with
        delays, mechanical overspeed, under-voltage stages on its bus voltage), default
        ``physics/data/unit_trips.toml`` (sources there and in docs/cascade.md); units
        trip one group at a time as the frequency crosses their own settings.
    unit_trip_spread_hz : standard deviation (Hz) of a seeded half-normal offset of each
        unit's thresholds away from nominal (scatter of real settings); 0 by default.
    unit_trip_spread_pu : the same for each unit's under-voltage thresholds (pu of
        nominal voltage, moved down); 0 by default.
    overspeed_pu : if set, replaces the mechanical overspeed trip (pu of nominal speed)
        of every non-hydro kind (the table gives 1.10: NEMA SM-23 steam turbines).
    tune_hydro_governors : hydro transient droop tuned to each unit's inertia by
        Kundur's rule (R_T = 2.3 Tw / T_M, T_R = 5 Tw at Tw = 1 s; see
        ``GovernorModel.hydro_tuned``), with Tw from ``grid.notes["dynamics_by_kind"]``
        when the case states one; False keeps the fixed ``governors["hydro"]`` model.
    q_limits : enforce generator reactive limits (PV to PQ switching at qmin/qmax) in
        the cascade's AC power flows (MATPOWER ENFORCE_Q_LIMS); ``blackout run
        --q-limits``. Off by default: qmax is a steady-state capability enforced at once,
        while field forcing (overexcitation limiters with delays of seconds to a minute)
        carries the first seconds of a disturbance, which the engine does not model; on
        venezuela2019 with two Guri-Malena circuits out it sheds 358 MW for voltage
        collapse at t = 0 (the San Gerónimo SVC would need ~1,100 of its 600 Mvar), and
        in the centre at separation fixed load-bus capacitors drive units to qmin
        (docs/cascade.md, "Reactive limits"). The AC-CFM preset turns it on.
    ufls : enable under-frequency load shedding.
    ufls_stages : default staged UFLS table (ERCOT 2026, NOGRR247).
    ufls_anti_stall : supplemental time-delayed stages (ERCOT 2026 at 59.5 Hz).
    ufls_by_region : UFLS table per region name (replaces the default there).
    uvls : under-voltage load shedding (off by default; COSMIC settings).
    out_of_step : stability trip for named corridors (see ``OutOfStepSettings``).
    hidden_failures : relays next to a trip misoperate with probability p.
    hidden_failure_p : shortcut for ``hidden_failures.p`` (kept for the API in issue 4).
    seed : seed of every random draw (hidden failures); same seed, same timeline.
    governors : governor-turbine model per generator kind (see ``physics.frequency``).
    load_damping : load-frequency sensitivity D, % load per % frequency (1.0: Anderson &
        Mirheydar 1990; Kundur 11.1 gives 1-2).
    agc_s : secondary control (AGC) time constant per island, s: an integral of the speed
        error restores nominal frequency within minutes (ENTSO-E SOGL aFRR full activation
        within 5 min); None: governors only, frequency stays offset after a disturbance.
    operator : the control-room operator.
    start_clock : wall-clock label of t = 0 as "HH:MM:SS" for the text rendering (None:
        "t+seconds"); venezuela2019 runs default to 16:50:00.
    max_flow_interval_s : longest simulated time between power flows while any island's
        frequency is moving, s.
    """

    mode: Literal["ac", "dc"] = "ac"
    horizon_s: float = 3600.0
    simple: bool = False
    accfm: bool = False
    participation: Participation = "headroom"
    trip_multiple: float = 1.0
    relay: RelaySettings = field(default_factory=RelaySettings)
    relay_by_kv: dict[float, RelaySettings] = field(default_factory=dict)
    relay_by_element: dict[str, RelaySettings] = field(default_factory=dict)
    under_frequency_envelope: tuple[tuple[float, float], ...] = ERCOT_UNDER_FREQUENCY
    over_frequency_envelope: tuple[tuple[float, float], ...] = ERCOT_OVER_FREQUENCY
    unit_trips: dict[str, UnitTripSettings] = field(default_factory=default_unit_trips)
    unit_trip_spread_hz: float = 0.0
    unit_trip_spread_pu: float = 0.0
    overspeed_pu: float | None = None
    tune_hydro_governors: bool = True
    q_limits: bool = False
    ufls: bool = True
    ufls_stages: tuple[UflsStage, ...] = ERCOT_2026_STAGES
    ufls_anti_stall: tuple[UflsStage, ...] = ERCOT_2026_ANTI_STALL
    ufls_by_region: dict[str, tuple[UflsStage, ...]] = field(default_factory=dict)
    uvls: UvlsSettings = field(default_factory=UvlsSettings)
    out_of_step: OutOfStepSettings = field(default_factory=OutOfStepSettings)
    hidden_failures: HiddenFailureSettings = field(default_factory=HiddenFailureSettings)
    hidden_failure_p: float | None = None
    seed: int = 0
    governors: dict[str, GovernorModel] = field(default_factory=default_governors)
    load_damping: float = 1.0
    agc_s: float | None = 120.0
    operator: OperatorSettings = field(default_factory=OperatorSettings)
    start_clock: str | None = None
    max_flow_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in ("ac", "dc"):
            raise ValueError(f"mode must be 'ac' or 'dc', got {self.mode!r}")
        if not self.horizon_s > 0:
            raise ValueError(f"horizon_s must be > 0, got {self.horizon_s}")
        if self.hidden_failure_p is not None:
            object.__setattr__(self, "hidden_failures",
                               replace(self.hidden_failures, p=float(self.hidden_failure_p)))

    @classmethod
    def simple_dc(cls, trip_multiple: float = 1.0) -> CascadeSettings:
        """The reduced DC rule shared with the batch engine (``study/fastdc/engine.py``).

        No frequency dynamics and no relay timers. Loop: find islands; in each island, no
        in-service generator means its load is lost, else the in-service generators are
        re-dispatched in proportion to ``pmax_mw`` within [0, pmax_mw] to meet the load and
        any shortfall is shed as a uniform fraction of the island's load; DC power flow;
        every branch with ``rate_a_mva > 0`` and ``|P| > trip_multiple * rate_a_mva`` trips in
        the same round (cause "overload"); until a round trips nothing.
        """
        return cls(mode="dc", simple=True, trip_multiple=float(trip_multiple))

    @classmethod
    def accfm_like(cls) -> CascadeSettings:
        """The AC-CFM rule (Noebels, Preece & Panteli 2022; ``accfm.m``): instantaneous
        trips above 1.01 x rate_a on the mean MVA of both ends, its UFLS with the
        imbalance-based 10 % overhead, UVLS in 5 % steps, reactive limits, smallest-unit
        over-frequency generation shedding and voltage-collapse shedding, in rounds
        without time (see :mod:`blackout.cascade.accfm`, which names the line of
        ``accfm.m`` each step follows, and its one departure: the VCLS amount)."""
        return cls(mode="ac", accfm=True, q_limits=True)

    def with_(self, **changes: object) -> CascadeSettings:
        """A copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def from_scenario_settings(settings: dict[str, Any], **overrides: Any) -> CascadeSettings:
    """The engine's CascadeSettings from a compiled scenario's settings.

    Operator blinding maps onto the engine's operator model (act only after an
    overload has lasted ``delay_s``): an operator blind from t0 to t1 cannot act
    on what it cannot see, so its delay becomes at least t1 - t0. With a frozen
    view it sees the pre-attack state; with stealthy false data it sees normal
    flows: either way it takes no corrective action in the window.
    """
    merged = {**settings, **overrides}
    base = OperatorSettings()
    delay = float(merged.get("operator_delay_s", base.delay_s))
    for window in merged.get("operator_blind", []):
        delay = max(delay, float(window["until_s"]) - float(window["from_s"]))
    operator = OperatorSettings(enabled=bool(merged.get("operator_enabled", True)),
                                delay_s=delay)
    kwargs: dict[str, Any] = {"mode": merged.get("mode", "ac"),
                              "horizon_s": float(merged.get("horizon_s", 3600.0)),
                              "seed": int(merged.get("seed", 0)),
                              "ufls": bool(merged.get("ufls", True)),
                              "operator": operator}
    if merged.get("hidden_failure_p") is not None:
        kwargs["hidden_failure_p"] = float(merged["hidden_failure_p"])
    if merged.get("start_clock"):
        kwargs["start_clock"] = merged["start_clock"]
    for spread in ("unit_trip_spread_hz", "unit_trip_spread_pu"):
        if merged.get(spread) is not None:
            kwargs[spread] = float(merged[spread])
    if merged.get("ufls_shed_scale") is not None or merged.get("ufls_first_stage_hz") is not None:
        from blackout.uncertainty import ufls_stages  # UFLS design as an uncertain input

        kwargs["ufls_stages"] = ufls_stages(CascadeSettings().ufls_stages,
                                            shed_scale=merged.get("ufls_shed_scale"),
                                            first_stage_hz=merged.get("ufls_first_stage_hz"))
    for flag in ("accfm", "q_limits"):  # the AC-CFM preset (blackout run --preset accfm)
        if merged.get(flag) is not None:
            kwargs[flag] = bool(merged[flag])
    return CascadeSettings(**kwargs)
