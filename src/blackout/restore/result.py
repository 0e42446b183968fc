"""The result of a restoration run: curve, metrics, actions, pickups, critical services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blackout.impact.critical import CriticalReport, critical_services
from blackout.impact.metrics import ServedCurve
from blackout.restore.interference import Interference
from blackout.restore.params import RestoreParams

__all__ = ["RestorationResult"]


@dataclass
class RestorationResult:
    """Cascade plus restoration, from the event's start to the horizon.

    Attributes
    ----------
    curve : served load per bus over time (cascade samples, then restoration steps).
    start_h : when restoration began (end of the cascade), h after the event start.
    params : the parameters used. interference : what interfered, in time order.
    pickups : every load block and cranking block with the limits that applied.
    actions : every switching, start, crew and interference action (time_h, action, what, why).
    closes : (time_h, branch position) of every branch closed.
    crew_log : each crew assignment (crew, task, element, start_h, finish_h).
    nothing_to_restore : the cascade lost no load, so no restoration ran (no interference).
    account : the scenario's ``reproduces`` / ``departs`` lines (what of its cited
        account the restoration reproduces, and where and why it does not).
    """

    curve: ServedCurve
    start_h: float
    params: RestoreParams
    interference: list[Interference] = field(default_factory=list)
    pickups: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    closes: list[tuple[float, int]] = field(default_factory=list)
    crew_log: list[dict[str, Any]] = field(default_factory=list)
    nothing_to_restore: bool = False
    account: dict[str, str] = field(default_factory=dict)
    _critical: CriticalReport | None = None

    @property
    def critical(self) -> CriticalReport:
        """Critical services over the whole event (computed once)."""
        if self._critical is None:
            self._critical = critical_services(self.curve)
        return self._critical

    # ------------------------------------------------------------------ metrics
    def served_percent_final(self) -> float:
        """National served share of demand at the horizon, %."""
        return float(self.curve.served_percent()[-1])

    def region_restored_h(self) -> dict[str, float | None]:
        """Hours (from the event start) until each region is 90 % served for good."""
        return self.curve.restored_h()

    def order(self) -> list[str]:
        """Regions in the order they returned (never-dark regions first, unrestored last)."""
        rh = self.region_restored_h()
        return sorted(rh, key=lambda r: (rh[r] is None, rh[r] or 0.0, r))

    def to_dict(self, *, step_h: float = 1.0) -> dict[str, Any]:
        """The run JSON's ``"restoration"`` section."""
        c = self.curve
        rh = self.region_restored_h()
        pop = c.population_without_power().sum(axis=1)
        ratio = [p["block_mw"] / p["limit_mw"] for p in self.pickups if p["limit_mw"] > 0]
        return {
            "served_percent_final": round(self.served_percent_final(), 3),
            "energy_not_served_mwh": round(c.energy_not_served_mwh(), 1),
            "customer_hours": round(c.customer_hours(), 0),
            "region_restored_h": {r: (None if v is None else round(v, 2)) for r, v in rh.items()},
            "region_first_restored_h": {r: (None if v is None else round(v, 2))
                                        for r, v in c.first_restored_h().items()},
            "region_hours_dark": {r: round(v, 2) for r, v in c.hours_dark().items()},
            "order": self.order(),
            "hours_to_percent": {str(p): c.time_to_national_h(p) for p in (50, 90, 95)},
            "peak_population_without_power": round(float(pop.max()), 0),
            "start_h": round(self.start_h, 4),
            "horizon_h": c.end_h,
            "interference": [i.to_dict() for i in self.interference],
            "pickups": {"count": len(self.pickups),
                        "largest_block_mw": round(max((p["block_mw"] for p in self.pickups),
                                                      default=0.0), 2),
                        "max_block_over_limit": round(max(ratio, default=0.0), 4)},
            "crews": self.params.crews_available,
            "actions": len(self.actions),
            "curve": c.to_dict(step_h=step_h),
            "nothing_to_restore": self.nothing_to_restore,
            "account": dict(self.account),
        }

    def critical_dict(self, *, step_h: float = 1.0) -> dict[str, Any]:
        """The run JSON's ``"critical"`` section."""
        return self.critical.to_dict(step_h=step_h)

    def to_frame(self, what: str = "served_region") -> pd.DataFrame:
        """"served_region" (MW per region by time_h), "pickups" or "actions"."""
        if what == "served_region":
            return pd.DataFrame(self.curve.served_region_mw(),
                                index=pd.Index(self.curve.time_h, name="time_h"),
                                columns=self.curve.region_names)
        if what == "pickups":
            return pd.DataFrame(self.pickups)
        if what == "actions":
            return pd.DataFrame(self.actions)
        raise ValueError(f"unknown frame {what!r}; use served_region, pickups, actions")

    def served_mw_at(self, time_h: float) -> np.ndarray:
        """Served load per bus at ``time_h`` (last sample at or before), MW."""
        k = int(np.searchsorted(self.curve.time_h, time_h, side="right")) - 1
        return self.curve.served_bus_mw[max(k, 0)]
