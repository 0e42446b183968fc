"""Sabotage: physical destruction of substations, transformers, towers or units.

Destroyed elements trip at the attack time and stay out until repaired: the
repair time is data for the restoration module, fixed (``repair_h``) or drawn
from a lognormal distribution (``repair_h_median``, ``repair_sigma``), as
suggested for damaged-element repair in restoration studies (modelling
references §4). Destroying a substation opens every branch at its buses, trips
its units and disconnects the loads it feeds.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from blackout.events import Event
from blackout.grid.model import Grid
from blackout.threats.base import Resolver, Seconds, Spec
from blackout.threats.effects import Repair, RestorationEffects, ThreatEffects

__all__ = ["SabotageSpec", "Target", "sabotage_effects"]


class Target(Spec):
    """One destroyed element: exactly one of substation, branch (line, tower, transformer), unit."""

    substation: str | None = Field(default=None, description="bus name or substation prefix")
    branch: str | None = Field(default=None, description="line (tower) or transformer name")
    unit: str | None = Field(default=None, description="generating unit name")
    at_s: Seconds | None = Field(default=None, description="default: the sabotage's at_s")
    repair_h: float | None = Field(default=None, gt=0, le=1e5, description="fixed repair time, h")
    repair_h_median: float | None = Field(default=None, gt=0, le=1e5, description=(
        "median of a lognormal repair time, h"))
    repair_sigma: float = Field(default=0.5, ge=0, le=5, description=(
        "log-standard deviation of the lognormal repair time"))

    @model_validator(mode="after")
    def _one(self) -> Target:
        given = [k for k in ("substation", "branch", "unit") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a target names exactly one of 'substation', 'branch' or 'unit'")
        if (self.repair_h is None) == (self.repair_h_median is None):
            raise ValueError("give exactly one of 'repair_h' or 'repair_h_median'")
        return self


class SabotageSpec(Spec):
    """A physical attack (``kind: sabotage``)."""

    kind: Literal["sabotage"] = "sabotage"
    name: str = "sabotage"
    at_s: Seconds = 0.0
    method: str = Field(default="unspecified", description="a label (explosive, arson, ...)")
    targets: list[Target] = Field(min_length=1)


def sabotage_effects(grid: Grid, spec: SabotageSpec, *, rng: np.random.Generator,
                     resolver: Resolver, horizon_s: float) -> ThreatEffects:
    """Trip events of the destroyed elements and their repair times (h) for restoration."""
    events: list[Event] = []
    repairs: list[Repair] = []
    seen: set[tuple[str, int]] = set()
    for k, tgt in enumerate(spec.targets):
        r = resolver.at("targets", k)
        t = spec.at_s if tgt.at_s is None else tgt.at_s
        if t > horizon_s:
            raise r.error(("at_s",), f"{t} s is after the horizon ({horizon_s} s)")
        if tgt.repair_h is not None:
            repair_h = float(tgt.repair_h)
        else:
            assert tgt.repair_h_median is not None
            repair_h = float(tgt.repair_h_median * np.exp(tgt.repair_sigma * rng.standard_normal()))
        label = tgt.substation or tgt.branch or tgt.unit
        why = f"sabotage {spec.name} ({spec.method}): {label} destroyed"
        elements: list[tuple[str, int, str]] = []
        if tgt.substation is not None:
            buses = r.bus_or_substation(tgt.substation, ("substation",))
            br = grid.branch
            on = (np.isin(br["from_bus"], buses) | np.isin(br["to_bus"], buses)) & br["in_service"]
            elements += [("branch", int(i), "trip") for i in np.flatnonzero(on)]
            elements += [("gen", int(i), "trip") for i in np.flatnonzero(
                np.isin(grid.gen["bus"], buses) & grid.gen["in_service"])]
            elements += [("load", int(i), "shed") for i in np.flatnonzero(
                np.isin(grid.load["bus"], buses) & grid.load["in_service"])]
        elif tgt.branch is not None:
            elements.append(("branch", r.find("branch", tgt.branch, ("branch",)), "trip"))
        else:
            assert tgt.unit is not None
            elements.append(("gen", r.find("gen", tgt.unit, ("unit",)), "trip"))
        for kind, i, action in elements:
            if (kind, i) in seen:
                continue
            seen.add((kind, i))
            events.append(Event(t, kind, i, action, cause=why,
                                    value=1.0 if action == "shed" else None,
                                    detail={"threat": "sabotage", "repair_h": repair_h}))
            repairs.append(Repair(element=kind, position=i,
                                  name=str(getattr(grid, kind)["name"][i]), at_s=t,
                                  repair_h=repair_h))
    events.sort(key=lambda e: e.time_s)
    return ThreatEffects(events=tuple(events),
                         restoration=RestorationEffects(repairs=tuple(repairs)))
