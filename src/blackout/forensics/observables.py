"""Measure observables on a simulated timeline: counts, times, which-first, extremes.

Every observable measures one number (see ``OBSERVABLE_KINDS`` in
:mod:`blackout.forensics.evidence`): yes/no observables give 1 or 0, a time that
never came (nothing tripped, no collapse) is ``inf``, and a quantity that this
timeline cannot give (a time of day without a scenario start time) is ``nan``,
which the likelihood treats as uninformative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from blackout.forensics.evidence import Observable, Selection
from blackout.grid.model import Grid

__all__ = ["clock_origin_s", "measure", "measure_all", "select"]


def select(grid: Grid, selection: Selection) -> set[int]:
    """Positions of the elements of ``grid`` picked by ``selection``."""
    table = getattr(grid, selection.element)
    names = [str(n) for n in table["name"]]
    picked: set[int] = set()
    everything = not (selection.names or selection.contains or selection.corridors)
    corridor = [str(c) for c in table["corridor"]] if selection.element == "branch" else None
    wanted = set(selection.names)
    for i, name in enumerate(names):
        hit = everything or name in wanted or any(f in name for f in selection.contains)
        if not hit and corridor is not None and corridor[i] in selection.corridors:
            hit = True
        if hit:
            picked.add(i)
    if selection.kv_min is not None:
        picked = {i for i in picked if _kv(grid, selection.element, i) >= selection.kv_min}
    return picked


def _kv(grid: Grid, element: str, i: int) -> float:
    if element == "bus":
        return float(grid.bus["vn_kv"][i])
    if element == "branch":
        f, t = int(grid.branch["from_bus"][i]), int(grid.branch["to_bus"][i])
        return float(max(grid.bus["vn_kv"][f], grid.bus["vn_kv"][t]))
    bus = int(getattr(grid, element)["bus"][i])
    return float(grid.bus["vn_kv"][bus])


def clock_origin_s(timeline: Any) -> float:
    """Seconds since midnight of the timeline's t = 0 (``nan`` without a start clock)."""
    clock = getattr(timeline, "start_clock", None)
    if not clock:
        return math.nan
    h, m, s = (int(x) for x in str(clock).split(":"))
    return float(h * 3600 + m * 60 + s)


def _first_trip_s(timeline: Any, element: str, picked: set[int]) -> float:
    times = [e.time_s for e in timeline.events
             if e.action == "trip" and e.kind == element and e.element in picked]
    return float(min(times)) if times else math.inf


def measure(timeline: Any, observable: Observable, restoration: Any = None) -> float:
    """The value of ``observable`` on ``timeline`` (a :class:`~blackout.cascade.Timeline`).

    ``restoration`` (a :class:`~blackout.restore.RestorationResult`) is needed by
    ``region_restored_h``; without it that observable is ``nan`` (not measurable).
    """
    origin = clock_origin_s(timeline) if observable.clock else 0.0
    at_s: float | None = None
    if observable.at is not None:
        at_s = observable.at - origin
        if math.isnan(at_s):
            return math.nan
        at_s = max(at_s, 0.0)
    end_s = float(timeline.end_time_s)
    t = end_s if at_s is None else at_s
    kind = observable.kind
    grid = timeline.grid
    if kind == "regions_dark":
        return float(len(timeline.regions_dark(t)))
    if kind == "load_lost_percent":
        demand = float(timeline.demand_bus_mw.sum())
        served = float(timeline.served_mw_at(t).sum())
        return 100.0 * max(demand - served, 0.0) / demand if demand > 0 else 0.0
    if kind == "time_to_collapse":
        ttc = timeline.time_to_collapse_s()
        return math.inf if ttc is None else float(ttc) + origin
    if kind in ("frequency_nadir", "frequency_zenith"):
        values = []
        for isl in timeline.frequency:
            tr = timeline.frequency_trace(isl)
            if tr.size:
                values.append(tr[:, 1].min() if kind == "frequency_nadir" else tr[:, 1].max())
        if not values:
            return float(grid.f_hz) if hasattr(grid, "f_hz") else math.nan
        return float(min(values) if kind == "frequency_nadir" else max(values))
    if kind == "region_restored_h":
        if restoration is None:
            return math.nan
        hours = (restoration.curve.first_restored_h() if observable.first
                 else restoration.region_restored_h())
        missing = [r for r in observable.regions if r not in hours]
        if missing:
            raise ValueError(f"unknown region {', '.join(missing)}; known: {', '.join(hours)}")
        got = [hours[r] for r in observable.regions]
        return math.inf if any(h is None for h in got) else float(max(got))
    if kind == "islands_max":
        return float(max(timeline.island_count)) if timeline.island_count else 1.0
    assert observable.select is not None
    sel = observable.select
    picked = select(grid, sel)
    if kind == "tripped_count":
        hit = {e.element for e in timeline.events if e.action == "trip"
               and e.kind == sel.element and e.element in picked and e.time_s <= t}
        return float(len(hit))
    if kind == "trip_time":
        return _first_trip_s(timeline, sel.element, picked) + origin
    if kind == "first_out":
        first = next((e for e in timeline.events
                      if e.action == "trip" and e.kind == sel.element), None)
        return 1.0 if first is not None and first.element in picked else 0.0
    if kind in ("before", "interval"):
        assert observable.other is not None
        t_a = _first_trip_s(timeline, sel.element, picked)
        t_b = _first_trip_s(timeline, observable.other.element,
                            select(grid, observable.other))
        if kind == "before":
            return 1.0 if t_a < t_b else 0.0
        return t_b - t_a if math.isfinite(t_a) and math.isfinite(t_b) else math.inf
    raise ValueError(f"unknown observable kind {kind!r}")


def measure_all(timeline: Any, observables: Sequence[Observable],
                restoration: Any = None) -> np.ndarray:
    """Every observable measured on one timeline (and its restoration), as a float array."""
    return np.array([measure(timeline, o, restoration) for o in observables], dtype=float)
