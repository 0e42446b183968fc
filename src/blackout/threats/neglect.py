"""Neglect: years without maintenance, no external agent.

Four effects, each optional:

- **Vegetation growth** in rights of way. Vegetation of height
  ``h = min(growth_m_per_year * years_since_clearing, max_height_m)`` (m) raises
  the fuel load of any wildfire in the scenario by ``max(1, h / maintained_height_m)``
  and, where the gap between conductor and canopy falls below the flashover
  distance, the listed circuits fault by tree contact with a probability per
  minute (the mechanism of the 2003 US-Canada blackout's first 345 kV trips;
  NERC FAC-003 minimum vegetation clearance distances).
- **Hidden failures**: protection next to a tripped line misoperates with
  probability ``hidden_failure_p`` (Chen, Thorp, Dobson 2005), an engine setting.
- **Reduced crews and workforce**: a fraction of nominal crews, for restoration;
  a thinly staffed control room reacts ``operator_delay_s`` late (engine setting).
- **Fuel shortage**: thermal units capped at a fraction of their maximum output.
"""

from __future__ import annotations

import difflib
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from blackout.events import Event
from blackout.grid.model import Grid
from blackout.threats.base import Probability, Resolver, Seconds, Spec
from blackout.threats.effects import EngineOverrides, RestorationEffects, ThreatEffects

__all__ = ["FuelShortage", "NeglectSpec", "Vegetation", "neglect_effects", "vegetation_factor"]

THERMAL_KINDS = ("steam", "gas", "combined_cycle", "diesel", "thermal")


class Vegetation(Spec):
    """Vegetation grown under lines since the last clearing."""

    years_since_clearing: float = Field(ge=0, le=100)
    growth_m_per_year: float = Field(default=1.5, ge=0, le=10, description=(
        "height growth, m/year (fast tropical regrowth: 1-3 m/year)"))
    max_height_m: float = Field(default=20.0, gt=0, le=100)
    maintained_height_m: float = Field(default=1.0, gt=0, le=10, description=(
        "height on a maintained right of way: the reference fuel load 1"))
    corridors: list[str] = Field(default_factory=list, description=(
        "corridor names whose circuits are exposed to tree contact"))
    branches: list[str] = Field(default_factory=list, description="individual exposed branches")
    conductor_clearance_m: float = Field(default=15.0, gt=0, le=100, description=(
        "conductor height above ground at mid-span, hot sag, m"))
    flashover_distance_m: float = Field(default=5.0, gt=0, le=50, description=(
        "air gap that flashes over (765 kV: several m)"))
    contact_probability_per_min: Probability = Field(default=0.01, description=(
        "fault probability per minute of a circuit whose gap is below the flashover distance"))
    start_s: Seconds = 0.0

    def height_m(self) -> float:
        """Vegetation height, m."""
        return min(self.growth_m_per_year * self.years_since_clearing, self.max_height_m)


class FuelShortage(Spec):
    """Thermal units with too little fuel: capped at ``available_fraction`` of pmax."""

    available_fraction: float = Field(ge=0, le=1)
    kinds: list[str] = Field(default_factory=lambda: list(THERMAL_KINDS), description=(
        "generator kinds affected"))
    units: list[str] = Field(default_factory=list, description=(
        "if given, only these units (names) are affected"))


class NeglectSpec(Spec):
    """Neglect (``kind: neglect``)."""

    kind: Literal["neglect"] = "neglect"
    name: str = "neglect"
    vegetation: Vegetation | None = None
    hidden_failure_p: Probability | None = Field(default=None, description=(
        "probability that a relay next to a tripped line misoperates"))
    crews_fraction: float | None = Field(default=None, gt=0, le=1, description=(
        "maintenance crews available as a fraction of nominal (restoration)"))
    operator_delay_s: Seconds | None = Field(default=None, description=(
        "operator response delay of a thinly staffed control room, s"))
    fuel_shortage: FuelShortage | None = None

    @model_validator(mode="after")
    def _something(self) -> NeglectSpec:
        if all(getattr(self, k) is None for k in ("vegetation", "hidden_failure_p",
                                                   "crews_fraction", "operator_delay_s",
                                                   "fuel_shortage")):
            raise ValueError("neglect needs at least one of vegetation, hidden_failure_p, "
                             "crews_fraction, operator_delay_s, fuel_shortage")
        return self


def vegetation_factor(spec: NeglectSpec) -> float:
    """Multiplier of wildfire fuel load (>= 1) from vegetation growth."""
    if spec.vegetation is None:
        return 1.0
    v = spec.vegetation
    return max(1.0, v.height_m() / v.maintained_height_m)


def neglect_effects(grid: Grid, spec: NeglectSpec, *, rng: np.random.Generator,
                    resolver: Resolver, horizon_s: float) -> ThreatEffects:
    """Tree-contact faults, engine settings, restoration data and fuel caps of neglect."""
    events: list[Event] = []
    if spec.vegetation is not None:  # its growth also scales the wildfire fuel load
        # (vegetation_factor, applied by the scenario compiler to the wildfire threats)
        events += _tree_contacts(grid, spec.vegetation, rng=rng,
                                 resolver=resolver.at("vegetation"), horizon_s=horizon_s,
                                 name=spec.name)
    caps: dict[int, float] = {}
    if spec.fuel_shortage is not None:
        caps = _fuel_caps(grid, spec.fuel_shortage, resolver.at("fuel_shortage"))
    events.sort(key=lambda e: e.time_s)
    return ThreatEffects(
        events=tuple(events),
        settings=EngineOverrides(hidden_failure_p=spec.hidden_failure_p,
                                 operator_delay_s=spec.operator_delay_s),
        restoration=RestorationEffects(
            crews_fraction=spec.crews_fraction,
            fuel_caps_mw={str(grid.gen["name"][g]): c for g, c in caps.items()}),
        pmax_caps_mw=caps)


def _tree_contacts(grid: Grid, veg: Vegetation, *, rng: np.random.Generator,
                   resolver: Resolver, horizon_s: float, name: str) -> list[Event]:
    """Per-minute tree-contact faults of exposed circuits whose gap is below flashover."""
    corridors = set(map(str, grid.branch["corridor"]))
    exposed: set[int] = set()
    for j, c in enumerate(veg.corridors):
        if c not in corridors or not c:
            close = difflib.get_close_matches(c, sorted(corridors - {""}), n=5, cutoff=0.4)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise resolver.error(("corridors", j), f"no corridor named {c!r} in case "
                                 f"{grid.name}{hint}")
        exposed |= set(np.flatnonzero(grid.branch["corridor"] == c).tolist())
    for j, b in enumerate(veg.branches):
        exposed.add(resolver.find("branch", b, ("branches", j)))
    gap_m = veg.conductor_clearance_m - veg.height_m()
    if gap_m >= veg.flashover_distance_m or not exposed or veg.start_s >= horizon_s:
        return []
    events: list[Event] = []
    p = veg.contact_probability_per_min
    n_min = int((horizon_s - veg.start_s) // 60.0)
    for i in sorted(exposed):
        if not grid.branch["in_service"][i]:
            continue
        draws = rng.random(n_min)
        hit = np.flatnonzero(draws < p)
        if hit.size:
            t = veg.start_s + 60.0 * (int(hit[0]) + 1)
            events.append(Event(t, "branch", i, "trip", cause=(
                f"neglect {name}: tree contact under {grid.branch['name'][i]} "
                f"(vegetation {veg.height_m():.1f} m, gap {max(gap_m, 0):.1f} m < flashover "
                f"{veg.flashover_distance_m:.1f} m)"), detail={"threat": "neglect"}))
    return events


def _fuel_caps(grid: Grid, fuel: FuelShortage, resolver: Resolver) -> dict[int, float]:
    """pmax cap in MW per affected generator position."""
    if fuel.units:
        idx = [resolver.find("gen", u, ("units", j)) for j, u in enumerate(fuel.units)]
    else:
        kinds = np.array([str(k) for k in grid.gen["kind"]])
        idx = np.flatnonzero(np.isin(kinds, fuel.kinds)).tolist()
    return {int(g): float(fuel.available_fraction * grid.gen["pmax_mw"][g]) for g in idx}
