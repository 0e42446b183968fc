"""Wildfire: a burning area over time derates the lines under it and makes them fault.

The model (assumptions stated in docs/scenarios.md):

- The burning area is either a list of mapped perimeters (polygons over time:
  at time t the latest perimeter mapped at or before t) or an ignition point
  growing as an ellipse downwind (:func:`~blackout.threats.geometry.fire_ellipse`).
- A line is exposed when its route (the straight segment between its buses'
  coordinates, or a route given in the spec) intersects the burning area.
  Transformers and lines without bus coordinates are never exposed.
- An exposed line is derated at once (hot air and smoke reduce its ampacity:
  rating x ``derate``) and, for each minute it stays exposed, faults with
  probability ``1 - (1 - p)^(v * dt/60 s)``, where ``p`` is
  ``fault_probability_per_min`` and ``v`` the relative vegetation (fuel) load:
  a fuel load v times the maintained corridor's multiplies the fault hazard by v.
- A fault in a corridor (the branch's ``corridor``) trips each other circuit
  of that corridor at the same instant with probability ``common_mode_probability``
  (smoke and ionised air bridge parallel circuits in one right of way).
- Fire faults are cleared by zone-1 protection and reclosing is locked out
  while the fire burns: the trip stays until ``end_s`` (recorded for restoration).
- Randomness comes only from the ``rng`` passed in: same seed, same events.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator
from shapely.geometry import LineString, Polygon
from shapely.prepared import prep

from blackout.bounds import MAX_MODEL_STEPS, MIN_STEP_S
from blackout.events import Event
from blackout.grid.model import Grid
from blackout.threats.base import Probability, Resolver, Seconds, Spec
from blackout.threats.effects import RestorationEffects, ThreatEffects
from blackout.threats.geometry import Projection, check_ring, fire_ellipse

__all__ = ["FirePerimeter", "Ignition", "WildfireSpec", "wildfire_effects"]

LonLat = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]],
                   Field(min_length=2, max_length=2)]


class FirePerimeter(Spec):
    """The burning area mapped at ``time_s``: a ring of [lon, lat] points in degrees."""

    time_s: Seconds
    coords: list[LonLat] = Field(min_length=3)

    @field_validator("coords")
    @classmethod
    def _valid_ring(cls, coords: list[list[float]]) -> list[list[float]]:
        check_ring(coords)
        return coords


class Ignition(Spec):
    """An ignition point and how the fire spreads from it."""

    lon: float = Field(ge=-180, le=180, description="longitude, degrees")
    lat: float = Field(ge=-90, le=90, description="latitude, degrees")
    spread_m_per_min: float = Field(gt=0, le=500, description=(
        "head-fire rate of spread, m/min (grass fires: roughly 10-100 m/min)"))
    wind_from_deg: float | None = Field(default=None, ge=0, le=360, description=(
        "direction the wind blows from, degrees clockwise from north; none: no wind"))
    length_to_breadth: float = Field(default=2.0, ge=1, le=10, description=(
        "length-to-breadth ratio of the fire ellipse (about 1 + 0.25 x wind speed in km/h "
        "for grass, Anderson 1983)"))
    back_fraction: float = Field(default=0.1, ge=0, le=1, description=(
        "backing-fire rate of spread as a fraction of the head"))


class WildfireSpec(Spec):
    """A wildfire threat (``kind: wildfire``)."""

    kind: Literal["wildfire"] = "wildfire"
    name: str = "wildfire"
    start_s: Seconds = 0.0
    end_s: Seconds | None = Field(default=None, description=(
        "when the fire stops threatening the lines (default: the horizon); reclosing "
        "stays locked out until then"))
    polygons: list[FirePerimeter] | None = Field(default=None, description=(
        "mapped perimeters over time, times strictly increasing"))
    ignition: Ignition | None = None
    routes: dict[str, list[LonLat]] = Field(default_factory=dict, description=(
        "branch name -> route as [lon, lat] points, when not straight between buses"))
    vegetation_load: float = Field(default=1.0, ge=0, le=100, description=(
        "fuel under the lines relative to a maintained right of way (1)"))
    fault_probability_per_min: Probability = Field(default=0.1, description=(
        "probability that an exposed line faults in one minute at vegetation load 1"))
    common_mode_probability: Probability = Field(default=0.5, description=(
        "probability that a fault trips each other circuit of the same corridor with it"))
    derate: float = Field(default=0.8, gt=0, le=1, description=(
        "rating multiplier of an exposed line (hot air, smoke)"))
    step_s: float = Field(default=60.0, ge=MIN_STEP_S, le=3600, allow_inf_nan=False,
                          description=(
        f"time step of the model, s (at least {MIN_STEP_S:g} s: the engine's power-flow "
        "interval; blackout.bounds)"))

    @model_validator(mode="after")
    def _area_and_times(self) -> WildfireSpec:
        if (self.polygons is None) == (self.ignition is None):
            raise ValueError("give exactly one of 'polygons' (perimeters over time) or "
                             "'ignition' (point, spread rate, wind)")
        if self.polygons is not None:
            if not self.polygons:
                raise ValueError("'polygons' needs at least one perimeter")
            times = [p.time_s for p in self.polygons]
            if any(b <= a for a, b in zip(times, times[1:], strict=False)):
                raise ValueError(f"polygon times must be strictly increasing, got {times}")
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be after start_s ({self.start_s})")
        return self


def _routes(grid: Grid, spec: WildfireSpec, proj: Projection,
            resolver: Resolver) -> dict[int, LineString]:
    """Route of every line that can be exposed, in km."""
    br, bus = grid.branch, grid.bus
    given: dict[int, LineString] = {}
    for name, pts in spec.routes.items():
        given[resolver.find("branch", name, ("routes", name))] = proj.route(
            [(p[0], p[1]) for p in pts])
    out: dict[int, LineString] = {}
    for i in range(br.n):
        if i in given:
            out[i] = given[i]
            continue
        if str(br["kind"][i]) != "line" or not br["in_service"][i]:
            continue
        f, t = int(br["from_bus"][i]), int(br["to_bus"][i])
        ends = np.array([[bus["lon"][f], bus["lat"][f]], [bus["lon"][t], bus["lat"][t]]])
        if not np.all(np.isfinite(ends)):
            continue
        out[i] = proj.route(ends)
    return out


def _area_at(spec: WildfireSpec, proj: Projection, t_s: float) -> Polygon | None:
    """The burning area at time ``t_s`` (km), or None before the fire exists."""
    if spec.polygons is not None:
        latest = [p for p in spec.polygons if p.time_s <= t_s]
        return proj.polygon([(c[0], c[1]) for c in latest[-1].coords]) if latest else None
    ig = spec.ignition
    assert ig is not None
    origin = proj.to_km([[ig.lon, ig.lat]])[0]
    wind_to = None if ig.wind_from_deg is None else math.radians((ig.wind_from_deg + 180) % 360)
    shape = fire_ellipse(elapsed_s=t_s - spec.start_s, head_m_per_min=ig.spread_m_per_min,
                         back_fraction=ig.back_fraction,
                         length_to_breadth=ig.length_to_breadth, wind_to_rad=wind_to)
    return Polygon(np.asarray(shape.exterior.coords) + origin)


def _times(spec: WildfireSpec, end_s: float) -> list[float]:
    """Model step times, including every perimeter's time."""
    n = int(math.floor((end_s - spec.start_s) / spec.step_s + 1e-9))
    times = {spec.start_s + k * spec.step_s for k in range(n + 1)}
    if spec.polygons:
        times |= {p.time_s for p in spec.polygons if spec.start_s <= p.time_s <= end_s}
    return sorted(t for t in times if t < end_s)


def wildfire_effects(grid: Grid, spec: WildfireSpec, *, rng: np.random.Generator,
                     resolver: Resolver, horizon_s: float) -> ThreatEffects:
    """Derate and fault events of a wildfire on ``grid`` up to ``horizon_s`` seconds."""
    end_s = min(spec.end_s if spec.end_s is not None else horizon_s, horizon_s)
    if spec.polygons is not None:
        ref = np.mean([c for p in spec.polygons for c in p.coords], axis=0)
    else:
        assert spec.ignition is not None
        ref = np.array([spec.ignition.lon, spec.ignition.lat])
    proj = Projection(float(ref[0]), float(ref[1]))
    n_steps = (end_s - spec.start_s) / spec.step_s
    if n_steps > MAX_MODEL_STEPS:
        raise resolver.error(("step_s",), f"{spec.step_s:g} s steps from start_s "
                             f"({spec.start_s:g} s) to {end_s:g} s make {n_steps:,.0f} model "
                             f"steps; at most {MAX_MODEL_STEPS:,} (raise step_s or set end_s)")
    routes = _routes(grid, spec, proj, resolver)
    names = grid.branch["name"]
    corridor = grid.branch["corridor"]
    derated: set[int] = set()
    tripped: set[int] = set()
    events: list[Event] = []
    tag = {"threat": "wildfire", "fire": spec.name}
    label = spec.name if "fire" in spec.name.lower() else f"wildfire {spec.name}"
    times = _times(spec, end_s)
    for k, t in enumerate(times):
        area = _area_at(spec, proj, t)
        if area is None:
            continue
        dt = (times[k + 1] if k + 1 < len(times) else end_s) - t
        area_p = prep(area)
        exposed = [i for i in sorted(routes) if i not in tripped and area_p.intersects(routes[i])]
        for i in exposed:
            if i not in derated:
                derated.add(i)
                events.append(Event(t, "branch", i, "derate", cause=f"{label}: "
                                    f"hot air and smoke under {names[i]}", value=spec.derate,
                                    detail=dict(tag)))
        p_step = 1.0 - (1.0 - spec.fault_probability_per_min) ** (
            spec.vegetation_load * dt / 60.0)
        draws = rng.random(len(exposed))  # one draw per exposed line per step, in index order
        for i, u in zip(exposed, draws, strict=True):
            if i in tripped or u >= p_step:
                continue
            t_fault = t + dt
            if t_fault > end_s or t_fault > horizon_s:
                continue
            tripped.add(i)
            detail = {**tag, "reclose": "locked out while the fire burns",
                      "locked_until_s": end_s}
            events.append(Event(t_fault, "branch", i, "trip", cause=f"{label}: "
                                f"flashover under {names[i]}", detail=detail))
            if not corridor[i]:
                continue
            for j in range(grid.branch.n):
                if j == i or j in tripped or corridor[j] != corridor[i] or \
                        not grid.branch["in_service"][j]:
                    continue
                if rng.random() < spec.common_mode_probability:
                    tripped.add(j)
                    events.append(Event(t_fault, "branch", j, "trip", cause=(
                        f"{label}: common-mode fault with {names[i]} "
                        f"(corridor {corridor[i]})"), detail={**detail, "with": str(names[i])}))
    if end_s < horizon_s:
        for i in sorted(derated - tripped):
            events.append(Event(end_s, "branch", i, "derate", cause=f"{label} "
                                "out: rating restored", value=1.0, detail=dict(tag)))
    locked = {str(names[i]): end_s for i in sorted(tripped)}
    return ThreatEffects(events=tuple(sorted(events, key=lambda e: e.time_s)),
                         restoration=RestorationEffects(reclose_locked_until_s=locked))
