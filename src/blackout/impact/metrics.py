"""Served load over time and the impact metrics computed from it.

A :class:`ServedCurve` is a step function: served load per bus (MW) at sample
times (h after the start of the event), each value holding until the next
sample. From it come served load per region (MW and % of demand), population
without power, energy not served (MWh), customer-hours and the duration of
the outage per region (hours until 90 % of the region's demand is served again
and stays served).

Conventions
-----------
- *Demand* is each bus's pre-event demand (the grid's in-service load), MW.
- *Population without power* in a region is its population times its unserved
  share of demand (people are assumed spread over the region's load in
  proportion to demand; a state-level proxy, stated in docs/impact.md).
- *Energy not served* is the integral of unserved load over time,
  ENS = sum_k (D - S_k) * (t_{k+1} - t_k) in MWh (step function, left value held).
- *Customer-hours* are the same integral for population without power, in
  person-hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from blackout.grid.model import Grid

__all__ = ["ServedCurve", "DARK_FRACTION", "RESTORED_FRACTION"]

#: A region counts as restored once this fraction of its demand is served again.
RESTORED_FRACTION = 0.90
#: A region (or island) counts as dark while less than this fraction of its demand is
#: served: the one threshold of the cascade summary, the restoration's hours dark and the
#: report's dark regions (an assumption).
DARK_FRACTION = 0.10


@dataclass(frozen=True)
class ServedCurve:
    """Served load per bus over time: a right-continuous step function.

    Attributes
    ----------
    grid : the network (regions, populations, demand).
    time_h : sample times, h after the start of the event (increasing).
    served_bus_mw : served load per bus at each sample, shape (n_samples, n_bus), MW.
    end_h : end of the horizon, h (the last sample holds until then).
    """

    grid: Grid
    time_h: np.ndarray
    served_bus_mw: np.ndarray
    end_h: float

    @classmethod
    def build(cls, grid: Grid, time_h: list[float] | np.ndarray,
              served_bus_mw: list[np.ndarray] | np.ndarray, *, end_h: float) -> ServedCurve:
        """A curve from samples (duplicated times keep the last sample)."""
        t = np.asarray(time_h, dtype=float)
        s = np.asarray(served_bus_mw, dtype=float).reshape(t.size, grid.bus.n)
        if t.size == 0:
            raise ValueError("a served curve needs at least one sample")
        if np.any(np.diff(t) < 0):
            raise ValueError("sample times must be non-decreasing")
        keep = np.r_[t[1:] != t[:-1], True]
        if end_h < t[-1]:
            raise ValueError(f"end_h {end_h} h is before the last sample {t[-1]} h")
        return cls(grid=grid, time_h=t[keep], served_bus_mw=s[keep], end_h=float(end_h))

    # ------------------------------------------------------------------ basics
    @property
    def demand_bus_mw(self) -> np.ndarray:
        """Pre-event demand per bus, MW."""
        return self.grid.bus_load_mw()

    @property
    def region_names(self) -> list[str]:
        """Region names in table order."""
        return [str(n) for n in self.grid.region["name"]]

    def durations_h(self) -> np.ndarray:
        """How long each sample holds, h."""
        return np.diff(np.r_[self.time_h, self.end_h])

    def by_region(self, per_bus: np.ndarray) -> np.ndarray:
        """Sum per region of a per-bus array (last axis), MW; buses without a region dropped."""
        reg = self.grid.bus["region"]
        per_bus = np.atleast_2d(per_bus)
        onehot = np.zeros((self.grid.bus.n, self.grid.region.n))
        mask = reg >= 0
        onehot[np.flatnonzero(mask), reg[mask]] = 1.0
        return per_bus @ onehot

    def served_region_mw(self) -> np.ndarray:
        """Served load per region at each sample, (n_samples, n_region), MW."""
        return self.by_region(self.served_bus_mw)

    def demand_region_mw(self) -> np.ndarray:
        """Pre-event demand per region, MW."""
        return self.by_region(self.demand_bus_mw)[0]

    def served_region_fraction(self) -> np.ndarray:
        """Served share of each region's demand at each sample (1 where demand is 0)."""
        d = self.demand_region_mw()
        s = self.served_region_mw()
        return np.where(d > 0, np.clip(s / np.where(d > 0, d, 1.0), 0.0, 1.0), 1.0)

    def served_percent(self) -> np.ndarray:
        """National served share of demand at each sample, %."""
        d = float(self.demand_bus_mw.sum())
        return 100.0 * self.served_bus_mw.sum(axis=1) / d if d > 0 else np.full(
            self.time_h.size, 100.0)

    def population_without_power(self) -> np.ndarray:
        """People without power per region at each sample (population x unserved share)."""
        pop = np.asarray(self.grid.region["population"], dtype=float)
        return (1.0 - self.served_region_fraction()) * pop

    # ------------------------------------------------------------------ integrals
    def unserved_mw(self) -> np.ndarray:
        """National unserved load at each sample, MW (never negative)."""
        return np.maximum(self.demand_bus_mw.sum() - self.served_bus_mw.sum(axis=1), 0.0)

    def energy_not_served_mwh(self, *, region: str | None = None) -> float:
        """Integral of unserved load over the horizon, MWh (nationally or for one region)."""
        if region is None:
            return float(self.unserved_mw() @ self.durations_h())
        k = self.region_names.index(region)
        un = np.maximum(self.demand_region_mw()[k] - self.served_region_mw()[:, k], 0.0)
        return float(un @ self.durations_h())

    def customer_hours(self) -> float:
        """Integral of population without power over the horizon, person-hours."""
        return float(self.population_without_power().sum(axis=1) @ self.durations_h())

    # ------------------------------------------------------------------ durations
    def restored_h(self, fraction: float = RESTORED_FRACTION) -> dict[str, float | None]:
        """Per region: hours until ``fraction`` of its demand is served again for good.

        The end of the last interval in which the region was below ``fraction``;
        0.0 for a region never below it; None for one still below at the end.
        """
        frac = self.served_region_fraction()
        out: dict[str, float | None] = {}
        dur_end = np.r_[self.time_h[1:], self.end_h]
        for k, name in enumerate(self.region_names):
            below = np.flatnonzero(frac[:, k] < fraction - 1e-9)
            if below.size == 0:
                out[name] = 0.0
            elif below[-1] == frac.shape[0] - 1:
                out[name] = None
            else:
                out[name] = float(dur_end[below[-1]])
        return out

    def first_restored_h(self, fraction: float = RESTORED_FRACTION) -> dict[str, float | None]:
        """Per region: the first time (after having dropped below) ``fraction`` is served."""
        frac = self.served_region_fraction()
        out: dict[str, float | None] = {}
        for k, name in enumerate(self.region_names):
            below = np.flatnonzero(frac[:, k] < fraction - 1e-9)
            if below.size == 0:
                out[name] = 0.0
                continue
            after = np.flatnonzero((frac[:, k] >= fraction - 1e-9)
                                   & (np.arange(frac.shape[0]) > below[0]))
            out[name] = float(self.time_h[after[0]]) if after.size else None
        return out

    def hours_dark(self, fraction: float = DARK_FRACTION) -> dict[str, float]:
        """Per region: total hours with less than ``fraction`` of demand served."""
        frac = self.served_region_fraction()
        dur = self.durations_h()
        return {n: float(dur[frac[:, k] < fraction].sum())
                for k, n in enumerate(self.region_names)}

    def time_to_national_h(self, percent: float) -> float | None:
        """First time after the minimum at which national served load reaches ``percent``."""
        sp = self.served_percent()
        low = int(np.argmin(sp))
        hit = np.flatnonzero(sp[low:] >= percent - 1e-9)
        return float(self.time_h[low + hit[0]]) if hit.size else None

    # ------------------------------------------------------------------ export
    def resample(self, step_h: float) -> tuple[np.ndarray, np.ndarray]:
        """(times, served per bus) on a regular grid of ``step_h`` (values held)."""
        t = np.arange(self.time_h[0], self.end_h + 1e-9, step_h)
        k = np.searchsorted(self.time_h, t, side="right") - 1
        return t, self.served_bus_mw[np.maximum(k, 0)]

    def to_dict(self, *, step_h: float | None = None) -> dict[str, object]:
        """JSON-safe curve: time_h, national served MW and %, per-region served %."""
        if step_h is None:
            t, s = self.time_h, self.served_bus_mw
        else:
            t, s = self.resample(step_h)
        sub = ServedCurve(self.grid, t, s, self.end_h)
        frac = sub.served_region_fraction()
        return {
            "time_h": _floats(t),
            "served_mw": _floats(s.sum(axis=1)),
            "served_percent": _floats(sub.served_percent()),
            "population_without_power": _floats(sub.population_without_power().sum(axis=1)),
            "served_percent_by_region": {n: _floats(100.0 * frac[:, k])
                                         for k, n in enumerate(self.region_names)},
        }


def _floats(a: np.ndarray) -> list[float | None]:
    return [round(float(v), 4) if math.isfinite(v) else None
            for v in np.asarray(a, dtype=float).tolist()]
