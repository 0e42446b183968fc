"""Critical infrastructure during an outage: small, documented models.

Each model turns the grid supply at a critical load's bus over time into the
share of the service still running (an expected value over the facilities of a
region; no random draws). The grid supply share ``g(t)`` is the served fraction
of the bus's demand (facilities are spread over the region's feeders).

- **Backup generators** (hospitals, dialysis units, telecom batteries): service
  ``g + (1 - g) * b``, where the backup share ``b = coverage * (1 - p_fail)``
  while the current outage is shorter than the fuel (or battery) hours, then 0.
  An outage starts when ``g`` falls below 0.5 and ends when it is back above 0.9;
  fuel is topped up while the grid is back. Clocks are read at the samples, so
  a state change falls on the first sample after it (restoration samples are a
  regular step apart).
- **Water pumping** (Caracas' Tuy I-III): pumps run when their supply bus has at
  least ``min_supply_fraction`` served; the city keeps water for ``buffer_hours``
  after pumping stops (reservoirs), and gets it back ``refill_hours`` after
  pumping restarts (re-pressurising).
- **Metro**: runs when its supply bus has ``min_supply_fraction`` served, after
  ``restart_hours`` of inspection following any stop.
- **Card payments**: need power at the merchant and telecom: ``g * telecom``.

Parameters and their sources: ``impact/data/critical.toml``; a case may override
coverage and hours in ``grid.notes["critical_backup"]``.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from blackout.impact.metrics import ServedCurve

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["CriticalReport", "critical_params", "critical_services", "ServiceTrace"]

_DATA = Path(__file__).parent / "data" / "critical.toml"
_OUTAGE_START, _OUTAGE_END = 0.5, 0.9


@lru_cache(maxsize=1)
def _defaults() -> dict[str, Any]:
    with open(_DATA, "rb") as f:
        return tomllib.load(f)


def critical_params(grid_notes: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Model parameters: the defaults with the case's ``critical_backup`` overrides applied."""
    out = {k: dict(v) for k, v in _defaults().items()}
    for cat, vals in dict((grid_notes or {}).get("critical_backup", {})).items():
        if cat in out and "backup_fraction" in vals and "coverage_fraction" in out[cat]:
            out[cat]["coverage_fraction"] = float(vals["backup_fraction"])
            out[cat]["coverage_source"] += " (case value)"
        if cat in out and "backup_hours" in vals and "fuel_hours" in out[cat]:
            out[cat]["fuel_hours"] = float(vals["backup_hours"])
    return out


@dataclass(frozen=True)
class ServiceTrace:
    """One service in one region: share running at each sample and who depends on it."""

    category: str
    region: str
    loads: tuple[str, ...]
    people: float
    share: np.ndarray


@dataclass
class CriticalReport:
    """Every critical service over time, with summaries; ``to_dict()`` for the run JSON."""

    curve: ServedCurve
    traces: list[ServiceTrace]
    params: dict[str, dict[str, Any]]

    def categories(self) -> list[str]:
        """Categories present, in first-seen order, plus derived "payments"."""
        seen: list[str] = []
        for tr in self.traces:
            if tr.category not in seen:
                seen.append(tr.category)
        return seen

    def hours_down_by_region(self, category: str, *, below: float = 0.5) -> dict[str, float]:
        """Hours each region's service ran below ``below`` of normal."""
        dur = self.curve.durations_h()
        return {tr.region: float(dur[tr.share < below].sum())
                for tr in self.traces if tr.category == category}

    def longest_down_h(self, category: str, *, below: float = 0.5) -> dict[str, float]:
        """Longest continuous stretch below ``below`` per region, h."""
        t_end = np.r_[self.curve.time_h[1:], self.curve.end_h]
        out: dict[str, float] = {}
        for tr in self.traces:
            if tr.category != category:
                continue
            best, start = 0.0, None
            for k, s in enumerate(tr.share):
                if s < below and start is None:
                    start = self.curve.time_h[k]
                if s >= below and start is not None:
                    best, start = max(best, self.curve.time_h[k] - start), None
                if start is not None:
                    best = max(best, t_end[k] - start)
            out[tr.region] = float(best)
        return out

    def national_share(self, category: str) -> np.ndarray:
        """People-weighted share of the service running at each sample."""
        trs = [tr for tr in self.traces if tr.category == category]
        w = np.array([tr.people for tr in trs], dtype=float)
        s = np.array([tr.share for tr in trs])
        if w.sum() <= 0:
            return s.mean(axis=0)
        return (w[:, None] * s).sum(axis=0) / w.sum()

    def person_hours_lost(self, category: str) -> float:
        """Sum over regions of people x hours without the service."""
        dur = self.curve.durations_h()
        return float(sum(tr.people * ((1.0 - tr.share) @ dur)
                         for tr in self.traces if tr.category == category))

    def to_dict(self, *, step_h: float = 1.0) -> dict[str, Any]:
        """JSON-safe: per service people, hours down per region, national curve, summary."""
        t, _ = self.curve.resample(step_h)
        k = np.maximum(np.searchsorted(self.curve.time_h, t, side="right") - 1, 0)
        out: dict[str, Any] = {}
        for cat in self.categories():
            down = self.hours_down_by_region(cat)
            longest = self.longest_down_h(cat)
            share = self.national_share(cat)
            entry: dict[str, Any] = {
                "people": float(sum(tr.people for tr in self.traces if tr.category == cat)),
                "hours_down_by_region": {r: round(v, 2) for r, v in down.items()},
                "longest_down_h": round(max(longest.values(), default=0.0), 2),
                "longest_down_region": max(longest, key=longest.__getitem__) if longest else None,
                "min_service_percent": round(100.0 * float(share.min()), 2),
                "person_hours_lost": round(self.person_hours_lost(cat), 1),
                "curve": {"time_h": [round(float(x), 3) for x in t],
                          "service_percent": [round(100.0 * float(share[i]), 2) for i in k]},
                "assumptions": {key: v for key, v in self.params.get(cat, {}).items()
                                if key.endswith("source") or key == "note"},
            }
            if cat == "dialysis":
                entry.update(self._dialysis_summary())
            out[cat] = entry
        return out

    def _dialysis_summary(self) -> dict[str, Any]:
        p = self.params["dialysis"]
        longest = self.longest_down_h("dialysis")
        at_risk = sum(tr.people for tr in self.traces if tr.category == "dialysis"
                      and longest.get(tr.region, 0.0) > float(p["max_interval_h"]))
        units = sum(_units(name) for tr in self.traces if tr.category == "dialysis"
                    for name in tr.loads)
        return {"units_total": int(p["units_total"]), "patients_total": int(p["patients_total"]),
                "units_in_case": units,
                "patients_over_max_interval": round(float(at_risk)),
                "max_interval_h": float(p["max_interval_h"])}


def _units(name: str) -> int:
    m = re.search(r"\((\d+)\)", name)
    return int(m.group(1)) if m else 0


def critical_services(curve: ServedCurve, *,
                      params: dict[str, dict[str, Any]] | None = None) -> CriticalReport:
    """Model every tagged critical load of ``curve.grid`` over the curve's samples.

    Parameters
    ----------
    curve : served load per bus over time (cascade + restoration).
    params : model parameters (default: :func:`critical_params` of the grid's notes).

    Returns
    -------
    CriticalReport : one trace per (category, region), plus derived card payments.
    """
    grid = curve.grid
    params = params or critical_params(dict(grid.notes))
    demand = curve.demand_bus_mw
    g_bus = np.where(demand > 0, curve.served_bus_mw / np.where(demand > 0, demand, 1.0), 1.0)
    g_bus = np.clip(g_bus, 0.0, 1.0)
    t = curve.time_h
    regions = [str(n) for n in grid.region["name"]]
    cats = np.array([str(c) for c in grid.load["critical"]])
    lbus = grid.load["bus"]
    groups: dict[tuple[str, int], list[int]] = {}
    for i in np.flatnonzero(cats != ""):
        reg = int(grid.bus["region"][lbus[i]])
        groups.setdefault((str(cats[i]), reg), []).append(int(i))
    traces: list[ServiceTrace] = []
    telecom: dict[int, np.ndarray] = {}
    for (cat, reg), loads in groups.items():
        g = g_bus[:, int(lbus[loads[0]])]
        p = params.get(cat, {})
        if cat == "water":
            share = _water(t, g, p)
        elif cat == "metro":
            share = _metro(t, g, p)
        elif "coverage_fraction" in p:
            share = _backup(t, g, p)
        else:
            share = g.copy()
        people = float(sum(grid.load["customers"][i] for i in loads))
        name = regions[reg] if reg >= 0 else "(no region)"
        traces.append(ServiceTrace(cat, name, tuple(str(grid.load["name"][i]) for i in loads),
                                   people, share))
        if cat == "telecom":
            telecom[reg] = share
    pop = np.asarray(grid.region["population"], dtype=float)
    for reg, tel in telecom.items():
        region_g = curve.served_region_fraction()[:, reg] if reg >= 0 else tel
        traces.append(ServiceTrace("payments", regions[reg] if reg >= 0 else "(no region)", (),
                                   float(pop[reg]) if reg >= 0 else 0.0, region_g * tel))
    return CriticalReport(curve=curve, traces=traces, params=params)


def _outage_clock(t: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Hours since the current outage began at each sample (0 when the grid is up)."""
    out = np.zeros_like(t)
    start: float | None = None
    for k in range(t.size):
        if start is None and g[k] < _OUTAGE_START:
            start = t[k]
        elif start is not None and g[k] >= _OUTAGE_END:
            start = None
        out[k] = 0.0 if start is None else t[k] - start
    return out


def _backup(t: np.ndarray, g: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Grid share plus backup (coverage x start success) while fuel lasts."""
    b = float(p["coverage_fraction"]) * (1.0 - float(p.get("fail_to_start", 0.0)))
    clock = _outage_clock(t, g)
    fuel = float(p.get("fuel_hours", math.inf))
    backup = np.where(clock < fuel, b, 0.0)
    return np.clip(g + (1.0 - g) * backup, 0.0, 1.0)


def _water(t: np.ndarray, g: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """City water supply share: reservoir buffer after pumps stop, refill after restart."""
    pumping = g >= float(p["min_supply_fraction"]) - 1e-9
    buffer_h, refill_h = float(p["buffer_hours"]), float(p["refill_hours"])
    share = np.ones_like(t)
    stopped_at: float | None = None
    restarted_at: float | None = None
    dry = False
    for k in range(t.size):
        if not pumping[k]:
            restarted_at = None
            if stopped_at is None:
                stopped_at = t[k]
            dry = dry or t[k] - stopped_at >= buffer_h
        else:
            if stopped_at is not None and restarted_at is None:
                restarted_at = t[k]
            stopped_at = None
            if dry and restarted_at is not None and t[k] - restarted_at >= refill_h:
                dry = False
        share[k] = 0.0 if dry else 1.0
    return share


def _metro(t: np.ndarray, g: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Metro running share: 1 when supplied for at least ``restart_hours`` since its stop."""
    supplied = g >= float(p["min_supply_fraction"]) - 1e-9
    restart_h = float(p["restart_hours"])
    share = np.ones_like(t)
    stopped = False
    back_at: float | None = None
    for k in range(t.size):
        if not supplied[k]:
            stopped, back_at = True, None
        elif stopped:
            back_at = t[k] if back_at is None else back_at
            if t[k] - back_at >= restart_h:
                stopped = False
        share[k] = 0.0 if stopped else 1.0
    return share
