"""Cyber-attack on the control system: timed primitives turned into events.

Primitives follow the Ukraine 2015 and 2016 attacks (E-ISAC/SANS 2016; Dragos
2017/2019), the Aurora test (INL 2007), governor/setpoint manipulation and false
data injection (Liu, Ning, Reiter 2009), and the claims made in Venezuela in
March 2019. The entry vector is a label, not a mechanism: a primitive does what
a command through SCADA or a protection relay could do, at its time.

Each primitive is deterministic: the attacker's commands are scheduled, the
grid's response is the engine's business.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from blackout.bounds import MAX_EVENTS_PER_RUN, MIN_EVENT_SPACING_S, MIN_STEP_S
from blackout.events import Event
from blackout.grid.model import Grid
from blackout.threats.base import Resolver, Seconds, Spec
from blackout.threats.effects import (
    BlindWindow,
    EngineOverrides,
    Repair,
    RestorationEffects,
    RestorationInterference,
    ThreatEffects,
)

__all__ = ["CyberSpec", "cyber_effects"]


class _Primitive(Spec):
    at_s: Seconds = 0.0


class _Timed(_Primitive):
    until_s: Seconds | None = Field(default=None, description="end of the effect (none: the run)")

    @model_validator(mode="after")
    def _ordered(self) -> _Timed:
        if self.until_s is not None and self.until_s <= self.at_s:
            raise ValueError(f"until_s ({self.until_s}) must be after at_s ({self.at_s})")
        return self


class OpenBreakers(_Primitive):
    """Open breakers remotely at substations (Ukraine 2015: HMI hijack; 2016: Industroyer)."""

    do: Literal["open_breakers"]
    substations: list[str] = Field(default_factory=list, description=(
        "bus names, or a substation prefix ('Guri' for 'Guri 765 kV', 'Guri 400 kV')"))
    branches: list[str] = Field(default_factory=list, description="individual branches to open")
    what: list[Literal["branches", "loads", "gens"]] = Field(
        default_factory=lambda: ["branches", "loads"],  # type: ignore[arg-type]
        description="which breakers at the substations: branches, load feeders, generator units")
    spacing_s: float = Field(default=0.0, ge=0, le=3600, description=(
        "time between successive substations (an operator clicking through HMIs)"))

    @model_validator(mode="after")
    def _some(self) -> OpenBreakers:
        if not self.substations and not self.branches:
            raise ValueError("open_breakers needs 'substations' or 'branches'")
        return self


class TripUnits(_Primitive):
    """Trip generating units (plant control system or protection relay command)."""

    do: Literal["trip_units"]
    units: list[str] = Field(min_length=1)
    damage_repair_h: float | None = Field(default=None, gt=0, le=1e5, allow_inf_nan=False,
                                          description=(
        "units physically damaged (Aurora: breaker reclosed out of phase); repair time, h"))


class SetOutput(_Primitive):
    """De-load (or over-load) units: active-power setpoint to ``p_mw`` or ``fraction`` of now."""

    do: Literal["set_output"]
    units: list[str] = Field(min_length=1)
    p_mw: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    fraction: float | None = Field(default=None, ge=0, le=2, description=(
        "multiplier of the base-case dispatch"))

    @model_validator(mode="after")
    def _one(self) -> SetOutput:
        if (self.p_mw is None) == (self.fraction is None):
            raise ValueError("set_output needs exactly one of 'p_mw' or 'fraction'")
        return self


class SetDroop(_Primitive):
    """Change governor droop; 0 disables the governor (no primary frequency response)."""

    do: Literal["set_droop"]
    units: list[str] = Field(min_length=1)
    droop_pu: float = Field(ge=0, le=1, description="droop R in per unit (0.05 = 5 %); 0: off")


class OscillateSetpoint(_Primitive):
    """Drive setpoints sinusoidally around the base dispatch: p0 + A sin(2 pi (t - at) / T)."""

    do: Literal["oscillate_setpoint"]
    units: list[str] = Field(min_length=1)
    amplitude_mw: float = Field(gt=0, allow_inf_nan=False)
    period_s: float = Field(ge=MIN_STEP_S, le=3600, allow_inf_nan=False, description=(
        f"period of the oscillation, s (at least {MIN_STEP_S:g} s: the engine's power-flow "
        "interval; blackout.bounds)"))
    duration_s: float = Field(gt=0, le=86400, allow_inf_nan=False)
    steps_per_period: int = Field(default=8, ge=2, le=100, description=(
        f"setpoint changes per period; period_s / steps_per_period >= "
        f"{MIN_EVENT_SPACING_S:g} s (the frequency trace's sampling interval)"))

    @model_validator(mode="after")
    def _resolvable(self) -> OscillateSetpoint:
        if self.period_s / self.steps_per_period < MIN_EVENT_SPACING_S:
            raise ValueError(f"period_s / steps_per_period = {self.period_s:g} / "
                             f"{self.steps_per_period} s is below the engine's resolution "
                             f"({MIN_EVENT_SPACING_S:g} s between setpoint changes)")
        return self


class BlockProtection(_Timed):
    """Disable the protection relays of branches; after, an overheated line is derated.

    While blocked, an overloaded branch is not tripped by its own relay (the
    attempted SIPROTEC denial of service of 2016); the annealed conductor keeps a
    reduced rating (``derate_after``, a fraction of the original) once protection returns.
    """

    do: Literal["block_protection"]
    branches: list[str] = Field(min_length=1, description="branch names")
    derate_after: float = Field(default=1.0, gt=0, le=1, description=(
        "rating multiplier once protection returns (conductor annealed while unprotected)"))


class BlockUfls(_Primitive):
    """Disable under-frequency load shedding in regions (or everywhere) until the end of the run."""

    do: Literal["block_ufls"]
    regions: list[str] | None = Field(default=None, description="region names; none: all")


class BlindOperator(_Timed):
    """Deny or falsify the operator's view (frozen SCADA, or false data consistent with it)."""

    do: Literal["blind_operator"]
    mode: Literal["frozen", "false_data"] = Field(default="frozen", description=(
        "frozen: the operator sees the pre-attack state and does nothing until the view "
        "returns; false_data: stealthy false data injection, the operator sees normal "
        "flows and takes no corrective action"))


class InterfereRestoration(_Primitive):
    """Interfere with restoration: failed reclosing, bricked remote control, slower work."""

    do: Literal["interfere_restoration"]
    reclose_fails: bool = True
    slowdown_factor: float = Field(default=1.0, ge=1, le=100, description=(
        "restoration step times multiplied by this (manual switching, wiped workstations)"))
    bricked_substations: list[str] = Field(default_factory=list, description=(
        "substations whose remote control is lost (firmware of serial-to-Ethernet gateways)"))


Primitive = Annotated[
    OpenBreakers | TripUnits | SetOutput | SetDroop | OscillateSetpoint | BlockProtection
    | BlockUfls | BlindOperator | InterfereRestoration,
    Field(discriminator="do"),
]


class CyberSpec(Spec):
    """A cyber-attack (``kind: cyber``): a label for the entry vector and timed primitives."""

    kind: Literal["cyber"] = "cyber"
    name: str = "cyber-attack"
    entry_vector: str = Field(default="unspecified", description="a label, not a mechanism")
    actions: list[Primitive] = Field(min_length=1)


def cyber_effects(grid: Grid, spec: CyberSpec, *, rng: np.random.Generator,
                  resolver: Resolver, horizon_s: float) -> ThreatEffects:
    """Events and data of a cyber-attack on ``grid`` (``rng`` unused: the attack is scripted)."""
    events: list[Event] = []
    blind: list[BlindWindow] = []
    repairs: list[Repair] = []
    interference: RestorationInterference | None = None
    why = f"cyber {spec.name}"
    for k, act in enumerate(spec.actions):
        r = resolver.at("actions", k)
        if act.at_s > horizon_s:
            raise r.error(("at_s",), f"{act.at_s} s is after the horizon ({horizon_s} s)")
        tag = {"threat": "cyber", "attack": spec.name, "primitive": act.do,
               "entry_vector": spec.entry_vector}
        if isinstance(act, OpenBreakers):
            _open_breakers(grid, act, r, why, tag, events)
        elif isinstance(act, TripUnits):
            for j, name in enumerate(act.units):
                g = r.find("gen", name, ("units", j))
                events.append(Event(act.at_s, "gen", g, "trip", cause=f"{why}: unit tripped "
                                        "by command", detail=dict(tag)))
                if act.damage_repair_h is not None:
                    repairs.append(Repair(element="gen", name=name,
                                          repair_h=act.damage_repair_h))
        elif isinstance(act, SetOutput):
            for j, name in enumerate(act.units):
                g = r.find("gen", name, ("units", j))
                p = act.p_mw if act.p_mw is not None else act.fraction * float(  # type: ignore[operator]
                    grid.gen["p_mw"][g])
                events.append(Event(act.at_s, "gen", g, "set_p", cause=f"{why}: setpoint "
                                        "changed", value=float(p), detail=dict(tag)))
        elif isinstance(act, SetDroop):
            for j, name in enumerate(act.units):
                g = r.find("gen", name, ("units", j))
                events.append(Event(act.at_s, "gen", g, "set_droop", cause=f"{why}: "
                                        "governor droop changed", value=act.droop_pu,
                                        detail=dict(tag)))
        elif isinstance(act, OscillateSetpoint):
            _oscillate(grid, act, r, why, tag, events, horizon_s)
        elif isinstance(act, BlockProtection):
            _block_protection(grid, act, r, why, tag, events, horizon_s)
        elif isinstance(act, BlockUfls):
            regions = [-1] if act.regions is None else [
                r.find("region", name, ("regions", j)) for j, name in enumerate(act.regions)]
            for reg in regions:
                events.append(Event(act.at_s, "region" if reg >= 0 else "ufls", reg,
                                        "block_ufls", cause=f"{why}: UFLS disabled",
                                        detail=dict(tag)))
        elif isinstance(act, BlindOperator):
            until = horizon_s if act.until_s is None else min(act.until_s, horizon_s)
            blind.append(BlindWindow(from_s=act.at_s, until_s=until, mode=act.mode))
        elif isinstance(act, InterfereRestoration):
            for j, sub in enumerate(act.bricked_substations):
                r.bus_or_substation(sub, ("bricked_substations", j))  # names must exist
            interference = RestorationInterference(
                from_s=act.at_s, reclose_fails=act.reclose_fails,
                slowdown_factor=act.slowdown_factor,
                bricked_substations=tuple(act.bricked_substations))
    events.sort(key=lambda e: e.time_s)
    return ThreatEffects(events=tuple(events),
                         settings=EngineOverrides(operator_blind=tuple(blind)),
                         restoration=RestorationEffects(repairs=tuple(repairs),
                                                        interference=interference))


def _open_breakers(grid: Grid, act: OpenBreakers, r: Resolver, why: str, tag: dict[str, str],
                   events: list[Event]) -> None:
    br = grid.branch
    seen: set[tuple[str, int]] = set()
    for j, sub in enumerate(act.substations):
        t = act.at_s + j * act.spacing_s
        buses = r.bus_or_substation(sub, ("substations", j))
        on = np.isin(br["from_bus"], buses) | np.isin(br["to_bus"], buses)
        groups = {"branches": ("branch", np.flatnonzero(on & br["in_service"]), "trip"),
                  "loads": ("load", np.flatnonzero(np.isin(grid.load["bus"], buses)
                                                    & grid.load["in_service"]), "shed"),
                  "gens": ("gen", np.flatnonzero(np.isin(grid.gen["bus"], buses)
                                                  & grid.gen["in_service"]), "trip")}
        for what in act.what:
            kind, idx, action = groups[what]
            for i in idx:
                if (kind, int(i)) in seen:
                    continue
                seen.add((kind, int(i)))
                events.append(Event(t, kind, int(i), action, cause=f"{why}: breaker opened "
                                        f"remotely at {sub}", value=1.0 if action == "shed"
                                        else None, detail={**tag, "substation": sub}))
    for j, name in enumerate(act.branches):
        b = int(r.find("branch", name, ("branches", j)))
        if ("branch", b) not in seen:
            seen.add(("branch", b))
            events.append(Event(act.at_s, "branch", b, "trip", cause=f"{why}: breaker "
                                    "opened remotely", detail=dict(tag)))


def _oscillate(grid: Grid, act: OscillateSetpoint, r: Resolver, why: str, tag: dict[str, str],
               events: list[Event], horizon_s: float) -> None:
    dt = act.period_s / act.steps_per_period
    n = int(math.floor(act.duration_s / dt + 1e-9))
    if n * len(act.units) > MAX_EVENTS_PER_RUN:
        raise r.error(("duration_s",), f"{act.duration_s:g} s at {act.steps_per_period} "
                      f"setpoint changes per {act.period_s:g} s period on {len(act.units)} "
                      f"unit(s) make {n * len(act.units):,} events; at most "
                      f"{MAX_EVENTS_PER_RUN:,} per run (shorten duration_s or raise period_s)")
    for j, name in enumerate(act.units):
        g = r.find("gen", name, ("units", j))
        p0, pmax = float(grid.gen["p_mw"][g]), float(grid.gen["pmax_mw"][g])
        for k in range(1, n + 1):
            t = act.at_s + k * dt
            if t > horizon_s:
                break
            phase = 2 * math.pi * k / act.steps_per_period
            p = p0 if k == n else p0 + act.amplitude_mw * math.sin(phase)
            events.append(Event(t, "gen", g, "set_p", cause=f"{why}: oscillating setpoint",
                                    value=float(min(max(p, 0.0), max(pmax, p0))),
                                    detail=dict(tag)))


def _block_protection(grid: Grid, act: BlockProtection, r: Resolver, why: str,
                      tag: dict[str, str], events: list[Event], horizon_s: float) -> None:
    kind = "branch"
    for j, name in enumerate(act.branches):
        i = r.find("branch", name, ("branches", j))
        events.append(Event(act.at_s, kind, i, "block_relay", cause=f"{why}: protection "
                                "relay disabled", detail=dict(tag)))
        if act.until_s is not None and act.until_s <= horizon_s:
            events.append(Event(act.until_s, kind, i, "unblock_relay", cause=f"{why}: "
                                    "protection restored", detail=dict(tag)))
            if kind == "branch" and act.derate_after < 1.0:
                events.append(Event(act.until_s, kind, i, "derate", cause=f"{why}: "
                                        "conductor annealed while unprotected",
                                        value=act.derate_after, detail=dict(tag)))

