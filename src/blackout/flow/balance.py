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

from typing import Literal

import numpy as np

__all__ = ["Participation", "participation_weights", "share_imbalance", "PARTICIPATION_RULES"]

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
