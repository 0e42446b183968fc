"""What a control room does with its minutes: switching and load pickup, island by island.

Each live island gets the step's minutes; an action may run past the step, and
the overrun is taken from the island's next step. It alternates between a **pickup**
(crank a thermal unit whose bus is live, else connect the highest-priority
unserved load, in a block no larger than :func:`~blackout.restore.pickup.max_pickup`
allows; ``pickup_interval_min`` each) and a **switching** action
(``switching_min``; ``sync_min`` to synchronise two live islands). The branch
to close is the one whose dead end leads to the most valuable dark network:
``value(b) = sum_j w_j * 0.6 ** hops(b, j)`` over dark buses j, with w_j the
priority-weighted unserved demand plus ``gen_priority`` x the capacity of units
waiting there. Synchronising two islands is worth both islands' unserved demand;
closing a loop inside an island is worth little (it adds transfer capacity).
A block that overloads a weak path is retried at 1/4 and 1/16 of its size.
Every action is checked with a power flow and undone if it leaves a branch above
``max_loading_percent`` and worse loaded than before the action.
Interference multiplies every action time by the slowdown factor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from blackout.restore.engine import READY

if TYPE_CHECKING:
    from blackout.restore.engine import Restoration

__all__ = ["operate_islands"]

_DECAY = 0.6
_MIN_BLOCK_MW = 0.5
#: A load or branch whose step failed the power-flow check is retried after this, h.
_RETRY_H = 1.0
_TRIES = 6


def operate_islands(r: Restoration) -> None:
    """Spend one step of dispatcher time in every live island."""
    done: set[int] = set()
    budgets: dict[int, float] = {}
    blocked_br: set[int] = set()
    blocked_load: set[int] = set()
    gbus = np.asarray(r.g.gen["bus"])
    for _ in range(1000):
        labels, live = r.islands()
        keys = sorted({int(k) for k in np.flatnonzero(r.gstate == "on")
                       if int(k) not in done})
        if not keys:
            return
        key = keys[0]
        lab = int(labels[gbus[key]])
        members = [int(k) for k in np.flatnonzero(r.gstate == "on") if labels[gbus[k]] == lab]
        budget = min(budgets.get(k, r.p.step_h * 60.0 + min(r.carry_min.get(k, 0.0), 0.0))
                     for k in members)
        turn = 0
        while budget > 1e-9:
            labels, live = r.islands()
            lab = int(labels[gbus[key]])
            acted = False
            for kind in (("pickup", "switch") if turn % 2 == 0 else ("switch", "pickup")):
                used = (_pickup(r, labels, lab, blocked_load) if kind == "pickup"
                        else _switch(r, labels, live, lab, blocked_br))
                if used > 0:
                    budget -= used * r.slowdown
                    acted = True
                    break
            turn += 1
            if not acted:
                break
        labels, _ = r.islands()
        lab = int(labels[gbus[key]])
        for k in np.flatnonzero(r.gstate == "on"):
            if labels[gbus[k]] == lab:
                done.add(int(k))
                budgets[int(k)] = budget
                r.carry_min[int(k)] = min(budget, 0.0)


def _pickup(r: Restoration, labels: np.ndarray, lab: int, blocked: set[int]) -> float:
    """Crank a unit or connect a load block; minutes used (0 when nothing was possible)."""
    lim = r.pickup_limit(labels, lab)
    gbus = np.asarray(r.g.gen["bus"])
    bs = r.bs
    waiting = np.flatnonzero((r.gstate == "off") & (labels[gbus] == lab))
    for k in waiting[np.argsort(-r.pmax[waiting], kind="stable")]:
        need = 0.0 if bs[k] else r.p.by_kind(r.p.cranking_fraction, r.kinds[k]) * r.pmax[k]
        if need > lim.limit_mw + 1e-9:
            continue
        hot = np.isfinite(r.tripped_h[k]) and r.t - r.tripped_h[k] <= r.p.hot_window_h
        table = r.p.start_hot_h if hot else r.p.start_cold_h
        r.gstate[k], r.cranking_mw[k] = "starting", need
        r.ready_at[k] = r.t + r.p.by_kind(table, r.kinds[k]) * r.slowdown
        _record(r, lab, lim, need, f"cranking {r.g.gen['name'][k]}")
        r.log("crank", str(r.g.gen["name"][k]), why=f"{'hot' if hot else 'cold'} start, "
              f"{need:.0f} MW auxiliaries")
        return r.p.pickup_interval_min
    if lim.limit_mw < _MIN_BLOCK_MW:
        return 0.0
    cand = np.flatnonzero((labels[r.lbus] == lab) & (r.frac < 1.0 - 1e-9) & (r.demand > 0))
    cand = np.array([i for i in cand if int(i) not in blocked
                     and r.retry_h.get(("load", int(i)), -1.0) <= r.t], dtype=int)
    if cand.size == 0:
        return 0.0
    order = cand[np.lexsort((-r.demand[cand], -r.weight[cand]))]
    base = r.max_loading(labels, lab)
    for i in order[:_TRIES]:
        full = min(lim.limit_mw, r.demand[i] * (1.0 - r.frac[i]))
        before = r.frac[i]
        for block in (full, full / 4.0, full / 16.0):  # smaller blocks on a weak path
            if block < min(_MIN_BLOCK_MW, full) - 1e-12:
                break
            r.frac[i] = min(1.0, before + block / r.demand[i])
            if r.flow_ok(labels, lab, base):
                _record(r, lab, lim, block, str(r.g.load["name"][i]))
                return r.p.pickup_interval_min
            r.frac[i] = before
        blocked.add(int(i))
        r.retry_h[("load", int(i))] = r.t + _RETRY_H
    return 0.0


def _record(r: Restoration, lab: int, lim: object, block_mw: float, what: str) -> None:
    r.pickups.append({"time_h": round(r.t, 3), "island": lab, "what": what,
                      "block_mw": float(block_mw), **lim.to_dict()})  # type: ignore[attr-defined]


def _values(r: Restoration, labels: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Value of reaching each bus: decayed priority-weighted dark demand and units."""
    nb = r.g.bus.n
    w_load = np.bincount(r.lbus, weights=r.weight * r.demand * (1.0 - r.frac), minlength=nb)
    gbus = np.asarray(r.g.gen["bus"])
    waiting = np.isin(r.gstate, ["off", "damaged"])
    w_gen = np.bincount(gbus[waiting], weights=r.pmax[waiting] * r.p.gen_priority, minlength=nb)
    w = np.where(live, 0.0, w_load + w_gen)
    with np.errstate(invalid="ignore"):
        decay = np.where(np.isfinite(r._hops), _DECAY ** r._hops, 0.0)
    return decay @ w


def _switch(r: Restoration, labels: np.ndarray, live: np.ndarray, lab: int,
            blocked: set[int]) -> float:
    """Close the most valuable branch touching island ``lab``; minutes used (0: none)."""
    here = labels == lab
    ok = (~r.closed) & (r.status == READY) & (r.ready_h <= r.t + 1e-9)
    ok &= here[r.fb] | here[r.tb]
    ok &= ~(r.bricked[r.fb] | r.bricked[r.tb])
    cand = [int(i) for i in np.flatnonzero(ok) if int(i) not in blocked
            and r.retry_h.get(("branch", int(i)), -1.0) <= r.t]
    if not cand:
        return 0.0
    values = _values(r, labels, live)
    unserved = r.weight * r.demand * (1.0 - r.frac)
    scored = []
    for i in cand:
        a, b = int(r.fb[i]), int(r.tb[i])
        far = b if here[a] else a
        if here[a] and here[b]:
            score, kind = 1e-3 * float(r.g.branch["rate_a_mva"][i] or 1.0), "close loop"
        elif live[far]:
            both = (labels[r.lbus] == lab) | (labels[r.lbus] == labels[far])
            score, kind = 10.0 * float(unserved[both].sum()) + 1.0, "synchronise"
        else:
            score, kind = float(values[far]), "energise"
        if score > 0:
            scored.append((score, i, kind))
    base = r.max_loading(labels, lab)
    for score, i, kind in sorted(scored, reverse=True)[:_TRIES]:
        cost = r.p.sync_min if kind == "synchronise" else r.p.switching_min
        if r.reclose_fails and not r.attempted[i]:
            r.attempted[i] = True
            r.log("reclose failed", str(r.g.branch["name"][i]), why="interference")
            return cost
        r.closed[i] = True
        new_labels, _ = r.islands()
        if r.flow_ok(new_labels, int(new_labels[r.fb[i]]), base):
            r.close_log.append((r.t, i))
            r.log(kind, str(r.g.branch["name"][i]), why=f"value {score:.0f}")
            return cost
        r.closed[i] = False
        blocked.add(i)
        r.retry_h[("branch", i)] = r.t + _RETRY_H
    return 0.0
