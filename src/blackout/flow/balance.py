"""Sharing an island's imbalance among its units: one rule, used by every engine.

An island's generation must follow its demand. When an outage, a split or a load
change leaves an imbalance ``delta_mw`` (positive: more generation needed), the
quasi-steady (governor-response) state moves each in-service unit by its
participation factor, never outside ``[pmin_mw, pmax_mw]``. A unit that reaches a
limit stays there and the rest is shared among the others; what no unit can take
(every unit at its limit) is returned as the residual: a frequency deviation that the
frequency model and under-frequency load shedding settle, never a unit beyond its
limits.

Participation rules (``rule``):

- ``"pmax"``: in proportion to each unit's ``pmax_mw`` (the classical
  proportional-to-rating rule);
- ``"headroom"``: in proportion to the room left in the direction of the change
  (``pmax - p`` to go up, ``p - pmin`` to go down): every unit reaches its limit
  together (the default);
- ``"droop"``: in proportion to ``pmax_mw / R`` (each governor's steady-state
  response to a common frequency deviation; R in pu on the unit's rating), which is
  what the frequency model's governors settle to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Participation", "participation_weights", "share_imbalance", "redispatch", "dispatch_island",
           "balance_islands", "IslandBalance", "PARTICIPATION_RULES"]

Participation = Literal["pmax", "headroom", "droop"]
PARTICIPATION_RULES: tuple[str, ...] = ("pmax", "headroom", "droop")

_TOL_MW = 1e-9


def participation_weights(rule: Participation, p_mw: np.ndarray, pmin_mw: np.ndarray,
                          pmax_mw: np.ndarray, droop_pu: np.ndarray | None = None,
                          up: bool = True) -> np.ndarray:
    """Non-negative participation weights of units (any scale; only ratios matter).

    Parameters
    ----------
    rule : "pmax", "headroom" or "droop" (see the module docstring).
    p_mw, pmin_mw, pmax_mw : each unit's output now and its limits, MW.
    droop_pu : governor droop R per unit (pu on the unit's rating); needed for "droop";
        a unit with R <= 0 or no governor (R = inf) does not participate.
    up : the direction of the change (True: generation must rise).
    """
    p = np.asarray(p_mw, dtype=float)
    lo = np.asarray(pmin_mw, dtype=float)
    hi = np.asarray(pmax_mw, dtype=float)
    if rule == "pmax":
        w = np.maximum(hi, 0.0)
    elif rule == "headroom":
        w = np.maximum(hi - p, 0.0) if up else np.maximum(p - lo, 0.0)
    elif rule == "droop":
        if droop_pu is None:
            raise ValueError("the droop rule needs droop_pu")
        r = np.asarray(droop_pu, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where((r > 0) & np.isfinite(r), np.maximum(hi, 0.0) / r, 0.0)
    else:
        raise ValueError(f"participation rule {rule!r}: expected one of {PARTICIPATION_RULES}")
    return np.asarray(w, dtype=float)


def share_imbalance(p_mw: np.ndarray, pmin_mw: np.ndarray, pmax_mw: np.ndarray,
                    weights: np.ndarray, delta_mw: float) -> tuple[np.ndarray, float]:
    """Move units by ``delta_mw`` in total, shared by ``weights`` within their limits.

    Parameters
    ----------
    p_mw : each unit's output now, MW (a unit already outside its limits is first
        brought back inside them; that change counts towards ``delta_mw``).
    pmin_mw, pmax_mw : limits, MW.
    weights : participation weights (>= 0); units with weight 0 do not move.
    delta_mw : total change wanted, MW (positive: more generation).

    Returns
    -------
    (p_new_mw, residual_mw) : outputs within ``[pmin, pmax]`` and the part of the change
        no unit could take (same sign as ``delta_mw``; 0 when fully shared).
    """
    lo = np.asarray(pmin_mw, dtype=float)
    hi = np.maximum(np.asarray(pmax_mw, dtype=float), lo)
    p0 = np.asarray(p_mw, dtype=float)
    p = np.clip(p0, lo, hi)
    remaining = float(delta_mw) - float((p - p0).sum())
    w = np.where(np.asarray(weights, dtype=float) > 0, weights, 0.0).astype(float)
    free = w > 0
    for _ in range(p.size + 1):
        if abs(remaining) <= _TOL_MW:
            break
        room = (hi - p) if remaining > 0 else (lo - p)     # signed room per unit
        free &= np.abs(room) > _TOL_MW
        total = float(w[free].sum())
        if total <= 0.0:
            break
        step = np.zeros_like(p)
        step[free] = remaining * w[free] / total
        capped = free & (np.abs(step) >= np.abs(room))
        step[capped] = room[capped]
        p = p + step
        remaining -= float(step.sum())
        if not capped.any():
            remaining = 0.0 if abs(remaining) <= 1e-6 * max(1.0, abs(delta_mw)) else remaining
            break
    p = np.clip(p, lo, hi)
    return p, float(remaining)


def dispatch_island(rule: Participation, p_mw: np.ndarray, pmin_mw: np.ndarray,
                    pmax_mw: np.ndarray, need_mw: float, droop_pu: np.ndarray | None = None
                    ) -> tuple[np.ndarray, float]:
    """One island's quasi-steady dispatch from the case's own: its units must produce
    ``need_mw`` in total (the island's demand plus shunt consumption, MW).

    Each unit's case output ``p_mw`` is first brought inside ``[pmin_mw, max(pmax_mw,
    pmin_mw)]``; the imbalance left, ``need_mw - sum(p)``, is shared by the weights of
    ``rule`` in its direction (:func:`participation_weights`) with
    :func:`share_imbalance`. Memoryless: the result depends on the island alone, not on
    the order of the events that made it.

    Returns
    -------
    (p_new_mw, residual_mw) : outputs within the limits and what no unit could take
        (positive: a shortfall, which the cascade rules shed as load; negative: a
        surplus with every unit at pmin, left to the island's slack).
    """
    lo = np.asarray(pmin_mw, dtype=float)
    hi = np.maximum(np.asarray(pmax_mw, dtype=float), lo)
    pc = np.clip(np.asarray(p_mw, dtype=float), lo, hi)
    delta = float(need_mw) - float(pc.sum())
    w = participation_weights(rule, pc, lo, hi, droop_pu, up=delta > 0)
    return share_imbalance(pc, lo, hi, w, delta)


@dataclass(frozen=True)
class IslandBalance:
    """The balancing rule applied to every island of a topology.

    gen_p_mw : per generator, MW (0 for units out of service).
    served : per island, the fraction of its load served (0 in an island without an
        in-service generator; below 1 where the units at pmax cannot meet the demand).
    units : per island, in-service generators.
    residual_mw : per island, what no unit could take (see :func:`dispatch_island`).
    """

    gen_p_mw: np.ndarray
    served: np.ndarray
    units: np.ndarray
    residual_mw: np.ndarray


def balance_islands(rule: Participation, labels: np.ndarray, gen_bus: np.ndarray,
                    gen_on: np.ndarray, p_case_mw: np.ndarray, pmin_mw: np.ndarray,
                    pmax_mw: np.ndarray, load_bus_mw: np.ndarray, gs_bus_mw: np.ndarray,
                    droop_pu: np.ndarray | None = None) -> IslandBalance:
    """The island balancing rule of both cascade engines, on the island ``labels`` (per
    bus, 0..n-1; buses out of service must carry their own label or have no load).

    In each island with an in-service generator the units move from the case's
    dispatch ``p_case_mw`` by :func:`dispatch_island` to meet the island's load plus its
    shunt consumption (``load_bus_mw + gs_bus_mw`` summed over its buses, MW); a
    shortfall (positive residual) is shed as a uniform fraction of the island's load
    (never below 0). An island without one goes dark (served 0).
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = int(labels.max()) + 1 if labels.size else 0
    on = np.asarray(gen_on, dtype=bool)
    gisl = labels[np.asarray(gen_bus, dtype=np.int64)]
    units = np.bincount(gisl[on], minlength=n)
    load = np.bincount(labels, weights=load_bus_mw, minlength=n)
    gs = np.bincount(labels, weights=gs_bus_mw, minlength=n)
    gen_p = np.zeros(gisl.size)
    served = np.zeros(n)
    residual = np.zeros(n)
    droop = None if droop_pu is None else np.asarray(droop_pu, dtype=float)
    idx = np.flatnonzero(on)
    idx = idx[np.argsort(gisl[idx], kind="stable")]  # units grouped by island, in order
    bounds = np.searchsorted(gisl[idx], np.arange(n + 1))
    for k in np.flatnonzero(units > 0).tolist():
        g = idx[bounds[k]:bounds[k + 1]]
        p, r = dispatch_island(rule, p_case_mw[g], pmin_mw[g], pmax_mw[g],
                               float(load[k] + gs[k]), None if droop is None else droop[g])
        gen_p[g] = p
        residual[k] = r
        served[k] = min(1.0, max(0.0, 1.0 - r / load[k])) if (r > 0 and load[k] > 0) else 1.0
    return IslandBalance(gen_p, served, units, residual)


def redispatch(p_mw: np.ndarray, pmin_mw: np.ndarray, pmax_mw: np.ndarray, on: np.ndarray,
               target_mw: float) -> np.ndarray:
    """Dispatch of the ``on`` units moved to sum to ``target_mw`` within [pmin, pmax] (MW):
    the headroom rule of :func:`share_imbalance` (increases in proportion to headroom,
    decreases to output above pmin); units that cannot meet the target sit at a limit.
    Units not ``on`` are at 0."""
    on = np.asarray(on, dtype=bool)
    p = np.where(on, np.clip(p_mw, pmin_mw, pmax_mw), 0.0)
    gap = float(target_mw) - float(p.sum())
    w = np.where(on, participation_weights("headroom", p, pmin_mw, pmax_mw, up=gap > 0), 0.0)
    new, _ = share_imbalance(p, np.where(on, pmin_mw, 0.0), np.where(on, pmax_mw, 0.0), w, gap)
    return np.asarray(new)
