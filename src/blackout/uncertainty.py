"""Uncertain inputs of a scenario: priors, their central values, sampling and application.

A scenario file may declare ``uncertain:`` inputs, each with a prior::

    uncertain:
      demand:
        input: demand_mw              # a named input (below) ...
        dist: triangular
        low: 10500
        mode: 11000
        high: 13500
        source: "venezuela-2019-facts 1.4: ~10,500 MW (AP) to 12,000 +- 2,000 MW"
      fire_rate:
        path: threats[0].fault_probability_per_min   # ... or any number in the file
        dist: uniform
        low: 0.05
        high: 0.3
        source: "assumption: no flashover statistics were published"

``blackout run`` uses each prior's **central** value (``central`` if given, else the
triangular mode, the normal mean, the uniform midpoint or the log-uniform geometric
mean); ``blackout sweep`` draws every prior per trial (:func:`sample`, from the
trial's seeded generator) and records the values with the trial. A value drawn or
given is *pinned* in the prior's ``value`` field, so a trial re-runs alone from its
scenario data.

Named inputs (things that are not a number in the scenario file):

- ``demand_mw`` : total demand after the snapshot, MW: sets ``snapshot.load_scale`` to
  ``value / case demand`` (replacing the file's load_scale; region scaling still
  applies on top; a sweep refuses to combine it with ``--load-scale``).
- ``thermal_output_mw`` : total output of the in-service thermal units (steam, gas,
  combined cycle, diesel) at t = 0, MW; each unit's dispatch is scaled alike within
  its limits and the other units take the difference by headroom (the snapshot's
  redispatch rule). The case's own thermal dispatch is the natural central value.
- ``inertia_scale`` : every unit's inertia constant H x this.
- ``unit_trip_spread_hz`` : standard deviation of the seeded scatter of each unit's
  frequency-trip thresholds (the engine's ``unit_trip_spread_hz``), Hz.
- ``unit_trip_spread_pu`` : the same for each unit's under-voltage trip thresholds (the
  engine's ``unit_trip_spread_pu``), pu of nominal voltage.
- ``ufls_shed_scale`` : UFLS design: each stage's shed fraction x this (the engine's
  default stages; the anti-stall stages unchanged).
- ``ufls_first_stage_hz`` : UFLS design: every stage threshold shifted so that the first
  stage is at this frequency (on a 60 Hz scale, as the stage table), Hz.

Path inputs name a number in the scenario document (``threats[0].start_s``,
``threats[1].actions[3].at_s``, ``restoration.crews``, ``snapshot.load_scale``);
``op: scale`` multiplies the file's value instead of replacing it. The scenario is
validated again with the value in place, so a value outside a field's bounds is an
error naming the file and the field.

Every prior names its ``source``: the published range it comes from, or
``"assumption: ..."`` saying why none exists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from blackout.threats.base import Spec

if TYPE_CHECKING:
    from blackout.grid.model import Grid


__all__ = ["NAMED_INPUTS", "Prior", "Resolved", "central_values", "parse_path", "pin",
           "resolve", "sample", "THERMAL_KINDS"]

#: Named inputs (not numbers in the scenario file) and what they mean.
NAMED_INPUTS = {
    "demand_mw": "total demand after the snapshot, MW",
    "thermal_output_mw": "output of the in-service thermal units at t = 0, MW",
    "inertia_scale": "every unit's inertia constant H x this",
    "unit_trip_spread_hz": "scatter (standard deviation) of unit frequency-trip settings, Hz",
    "unit_trip_spread_pu": "scatter (standard deviation) of unit under-voltage trip settings, pu",
    "ufls_shed_scale": "each UFLS stage's shed fraction x this",
    "ufls_first_stage_hz": "UFLS thresholds shifted so the first stage is here, Hz (60 Hz scale)",
}
#: Unit kinds counted as thermal by ``thermal_output_mw``.
THERMAL_KINDS = ("steam", "gas", "combined_cycle", "diesel")

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$")


class Prior(Spec):
    """One uncertain input: what it sets, its distribution, its source."""

    input: Literal["demand_mw", "thermal_output_mw", "inertia_scale",
                   "unit_trip_spread_hz", "unit_trip_spread_pu", "ufls_shed_scale",
                   "ufls_first_stage_hz"] | None = Field(default=None, description=(
                       "a named input (see blackout.uncertainty)"))
    path: str | None = Field(default=None, description=(
        "a number in the scenario file, e.g. threats[0].fault_probability_per_min"))
    op: Literal["set", "scale"] = Field(default="set", description=(
        "path inputs: replace the file's value, or multiply it"))
    dist: Literal["uniform", "triangular", "normal", "loguniform"]
    low: float | None = Field(default=None, allow_inf_nan=False, description="lower bound")
    high: float | None = Field(default=None, allow_inf_nan=False, description="upper bound")
    mode: float | None = Field(default=None, allow_inf_nan=False, description=(
        "triangular: the most likely value"))
    mean: float | None = Field(default=None, allow_inf_nan=False, description="normal: mean")
    sd: float | None = Field(default=None, gt=0, allow_inf_nan=False, description=(
        "normal: standard deviation (truncated to [low, high] when given)"))
    central: float | None = Field(default=None, allow_inf_nan=False, description=(
        "the value `blackout run` uses (default: mode, mean, midpoint or geometric mean)"))
    integer: bool = Field(default=False, description="round drawn values (e.g. crews)")
    value: float | None = Field(default=None, allow_inf_nan=False, description=(
        "a pinned value (a sweep trial's draw); replaces the central value"))
    source: str = Field(min_length=1, description=(
        "where the range comes from, or 'assumption: why'"))

    @model_validator(mode="after")
    def _consistent(self) -> Prior:
        if (self.input is None) == (self.path is None):
            raise ValueError("give exactly one of input (a named input: "
                             f"{', '.join(NAMED_INPUTS)}) or path (a number in the file)")
        if self.path is not None and not _PATH.match(self.path):
            raise ValueError(f"path {self.path!r}: expected e.g. threats[0].start_s")
        if self.input is not None and self.op != "set":
            raise ValueError("op: scale applies to path inputs only")
        lo, hi = self.low, self.high
        if self.dist in ("uniform", "triangular", "loguniform"):
            if lo is None or hi is None:
                raise ValueError(f"dist {self.dist} needs low and high")
            if not lo < hi:
                raise ValueError(f"low must be < high, got {lo} and {hi}")
        if self.dist == "loguniform" and lo is not None and lo <= 0:
            raise ValueError("dist loguniform needs low > 0")
        if self.dist == "triangular":
            if self.mode is None:
                raise ValueError("dist triangular needs mode")
            if not (lo is not None and hi is not None and lo <= self.mode <= hi):
                raise ValueError(f"mode must lie in [low, high], got {self.mode}")
        if self.dist == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError("dist normal needs mean and sd")
            if lo is not None and hi is not None and not lo < hi:
                raise ValueError(f"low must be < high, got {lo} and {hi}")
            if (lo is not None and self.mean < lo) or (hi is not None and self.mean > hi):
                raise ValueError(f"mean {self.mean} lies outside [low, high]")
        for name in ("central", "value"):
            v = getattr(self, name)
            if v is not None and ((lo is not None and v < lo) or (hi is not None and v > hi)):
                raise ValueError(f"{name} {v} lies outside [low, high] = [{lo}, {hi}]")
        return self

    @property
    def target(self) -> str:
        """What the prior sets: the named input or the path."""
        return self.input if self.input is not None else str(self.path)

    def central_value(self) -> float:
        """The value a single run uses when none is pinned."""
        if self.central is not None:
            v = self.central
        elif self.dist == "triangular":
            v = float(self.mode)  # type: ignore[arg-type]
        elif self.dist == "normal":
            v = float(self.mean)  # type: ignore[arg-type]
        elif self.dist == "loguniform":
            v = math.sqrt(float(self.low) * float(self.high))  # type: ignore[arg-type]
        else:
            v = 0.5 * (float(self.low) + float(self.high))  # type: ignore[arg-type]
        return float(round(v)) if self.integer else float(v)

    def draw(self, rng: np.random.Generator) -> float:
        """One draw from the prior (normal: truncated to [low, high] by rejection)."""
        lo = -np.inf if self.low is None else float(self.low)
        hi = np.inf if self.high is None else float(self.high)
        if self.dist == "uniform":
            v = float(rng.uniform(lo, hi))
        elif self.dist == "triangular":
            v = float(rng.triangular(lo, float(self.mode or 0.0), hi))
        elif self.dist == "loguniform":
            v = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        else:
            mean, sd = float(self.mean or 0.0), float(self.sd or 1.0)
            v = float(rng.normal(mean, sd))
            for _ in range(1000):
                if lo <= v <= hi:
                    break
                v = float(rng.normal(mean, sd))
            v = float(np.clip(v, lo, hi))
        if self.integer:
            v = float(round(v))
            if self.low is not None and v < self.low:
                v = float(math.ceil(self.low))
            if self.high is not None and v > self.high:
                v = float(math.floor(self.high))
        return v

    def in_use(self) -> float:
        """The pinned value, else the central one."""
        return self.value if self.value is not None else self.central_value()


def central_values(priors: Mapping[str, Prior]) -> dict[str, float]:
    """Name -> central value of every prior."""
    return {name: p.central_value() for name, p in priors.items()}


def sample(priors: Mapping[str, Prior], rng: np.random.Generator) -> dict[str, float]:
    """Name -> one draw of every prior, in the order declared (one generator)."""
    return {name: p.draw(rng) for name, p in priors.items()}


def pin(priors: Mapping[str, Prior], values: Mapping[str, float]) -> dict[str, Prior]:
    """The priors with ``values`` pinned (a trial's scenario)."""
    return {name: (p.model_copy(update={"value": float(values[name])}) if name in values
                   else p) for name, p in priors.items()}


def parse_path(path: str) -> tuple[str | int, ...]:
    """``threats[0].actions[3].at_s`` -> ``("threats", 0, "actions", 3, "at_s")``."""
    out: list[str | int] = []
    for part in path.split("."):
        name, *idx = part.split("[")
        out.append(name)
        out.extend(int(i.rstrip("]")) for i in idx)
    return tuple(out)


@dataclass
class Resolved:
    """What the values in use do beyond the scenario document.

    values : name -> value in use. load_scale : snapshot load factor to set (demand_mw).
    thermal_output_mw, inertia_scale : grid changes (None: none). settings : engine
    settings to add (e.g. ``unit_trip_spread_hz``).
    """

    values: dict[str, float] = field(default_factory=dict)
    load_scale: float | None = None
    thermal_output_mw: float | None = None
    inertia_scale: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def apply_grid(self, grid: Grid) -> Grid:
        """``grid`` with the thermal dispatch and inertia changes applied (a new Grid)."""
        gen = grid.gen
        cols: dict[str, Any] = {}
        if self.inertia_scale is not None:
            cols["inertia_h_s"] = np.asarray(gen["inertia_h_s"], dtype=float) * self.inertia_scale
        if self.thermal_output_mw is not None:
            cols["p_mw"] = thermal_dispatch(grid, self.thermal_output_mw)
        if not cols:
            return grid
        return grid.replace(gen=gen.with_columns(**cols),
                            notes={**grid.notes, "uncertain": dict(self.values)})


def ufls_stages(stages: tuple[Any, ...], *, shed_scale: float | None = None,
                first_stage_hz: float | None = None) -> tuple[Any, ...]:
    """UFLS stages with each shed fraction x ``shed_scale`` and every threshold shifted so
    that the first stage is at ``first_stage_hz`` (None: unchanged). Raises
    :class:`~blackout.errors.BlackoutError` when a fraction would leave [0, 1] in total."""
    import dataclasses

    from blackout.errors import BlackoutError

    if not stages:
        return stages
    scale = 1.0 if shed_scale is None else float(shed_scale)
    shift = 0.0 if first_stage_hz is None else float(first_stage_hz) - stages[0].threshold_hz
    if scale < 0 or sum(st.fraction for st in stages) * scale > 1.0:
        raise BlackoutError(f"ufls_shed_scale {scale:g}: the stages would shed more than all "
                            "the load (or a negative share)")
    return tuple(dataclasses.replace(st, fraction=st.fraction * scale,
                                     threshold_hz=st.threshold_hz + shift) for st in stages)


def thermal_dispatch(grid: Grid, target_mw: float) -> np.ndarray:
    """Dispatch with the thermal units' total output moved to ``target_mw`` (within their
    limits) and the other in-service units taking the difference by headroom, MW."""
    from blackout.flow.balance import redispatch

    gen = grid.gen
    on = np.asarray(gen["in_service"], dtype=bool)
    p = np.asarray(gen["p_mw"], dtype=float).copy()
    pmin = np.asarray(gen["pmin_mw"], dtype=float)
    pmax = np.asarray(gen["pmax_mw"], dtype=float)
    kind = np.asarray([str(k) for k in gen["kind"]])
    thermal = on & np.isin(kind, THERMAL_KINDS) & (pmax > 0)
    other = on & ~thermal & (pmax > 0)
    total = float(p[on].sum())
    p_th = redispatch(p, pmin, pmax, thermal, min(target_mw, float(pmax[thermal].sum())))
    rest = redispatch(p, pmin, pmax, other, total - float(p_th[thermal].sum()))
    return np.where(thermal, p_th, np.where(other, rest, p))


def resolve(data: dict[str, Any], priors: Mapping[str, Prior], base_demand_mw: float
            ) -> tuple[dict[str, Any], Resolved, list[tuple[str, str]]]:
    """Put the values in use into the scenario document ``data`` (a copy).

    Returns (new data, what goes beyond the document, problems as (prior name, message)).
    ``base_demand_mw`` is the case's in-service demand (for ``demand_mw``).
    """
    import copy

    out = copy.deepcopy(data)
    res = Resolved()
    problems: list[tuple[str, str]] = []
    for name, prior in priors.items():
        v = prior.in_use()
        res.values[name] = v
        if prior.input == "demand_mw":
            if base_demand_mw <= 0:
                problems.append((name, "the case has no demand to scale"))
            else:
                ratio = v / base_demand_mw
                res.load_scale = 1.0 if abs(ratio - 1.0) < 1e-6 else ratio
        elif prior.input == "thermal_output_mw":
            res.thermal_output_mw = v
        elif prior.input == "inertia_scale":
            res.inertia_scale = v
        elif prior.input in ("unit_trip_spread_hz", "unit_trip_spread_pu", "ufls_shed_scale",
                             "ufls_first_stage_hz"):
            if prior.input == "ufls_shed_scale":  # of the engine's default stages
                from blackout.physics.ufls import ERCOT_2026_STAGES

                total = sum(st.fraction for st in ERCOT_2026_STAGES)
                if v < 0 or v * total > 1.0:
                    problems.append((name, f"ufls_shed_scale {v:g} would shed {100 * v * total:.0f}"
                                           " % of the load (allowed: 0 to 100 %)"))
                    continue
            res.settings[str(prior.input)] = v
        else:
            msg = _set_path(out, parse_path(str(prior.path)), v, prior.op)
            if msg:
                problems.append((name, msg))
    if res.load_scale is not None:
        out.setdefault("snapshot", {})["load_scale"] = res.load_scale
    return out, res, problems


def _set_path(doc: dict[str, Any], loc: tuple[str | int, ...], v: float, op: str) -> str:
    """Set (or scale) the number at ``loc``; '' on success, else the problem."""
    cur: Any = doc
    for k, part in enumerate(loc[:-1]):
        nxt = _child(cur, part)
        if nxt is None:
            return f"path {_fmt(loc)}: no {_fmt(loc[:k + 1])} in the scenario"
        cur = nxt
    last = loc[-1]
    if isinstance(cur, dict) and isinstance(last, str):
        old = cur.get(last)
        if op == "scale":
            if not isinstance(old, (int, float)) or isinstance(old, bool):
                return f"path {_fmt(loc)}: op scale needs a number in the file, got {old!r}"
            cur[last] = old * v
        else:
            if isinstance(old, bool) or (old is not None and not isinstance(old, (int, float))):
                return f"path {_fmt(loc)}: not a number in the scenario ({old!r})"
            cur[last] = int(v) if isinstance(old, int) and float(v).is_integer() else v
        return ""
    return f"path {_fmt(loc)}: not a field of the scenario"


def _child(cur: Any, part: str | int) -> Any:
    if isinstance(part, int):
        return cur[part] if isinstance(cur, list) and 0 <= part < len(cur) else None
    return cur.get(part) if isinstance(cur, dict) else None


def _fmt(loc: tuple[str | int, ...]) -> str:
    s = ""
    for p in loc:
        s += f"[{p}]" if isinstance(p, int) else (f".{p}" if s else p)
    return s
