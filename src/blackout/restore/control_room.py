"""The control rooms' decisions: switching and load pickup, island by island.

It reads and changes :class:`~blackout.restore.state.RestorationState` only.

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

import numpy as np

from blackout.restore.pickup import PickupLimit
from blackout.restore.state import READY, RestorationState, UnitState

__all__ = ["operate_islands"]

_DECAY = 0.6
_MIN_BLOCK_MW = 0.5
#: A load or branch whose step failed the power-flow check is retried after this, h.
_RETRY_H = 1.0
_TRIES = 6


def operate_islands(r: RestorationState) -> None:
    """Spend one step of dispatcher time in every live island."""
    done: set[int] = set()
    budgets: dict[int, float] = {}
    blocked_br: set[int] = set()
    blocked_load: set[int] = set()
    gbus = np.asarray(r.grid.gen["bus"])
    for _ in range(1000):
        labels, live = r.islands()
        keys = sorted({int(k) for k in np.flatnonzero(r.unit_state == UnitState.ON)
                       if int(k) not in done})
        if not keys:
            return
        key = keys[0]
        lab = int(labels[gbus[key]])
        members = [int(k) for k in np.flatnonzero(r.unit_state == UnitState.ON) if labels[gbus[k]] == lab]
        budget = min(budgets.get(k, r.params.step_h * 60.0 + min(r.carry_over_min.get(k, 0.0), 0.0))
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
        for k in np.flatnonzero(r.unit_state == UnitState.ON):
            if labels[gbus[k]] == lab:
                done.add(int(k))
                budgets[int(k)] = budget
                r.carry_over_min[int(k)] = min(budget, 0.0)


def _pickup(r: RestorationState, labels: np.ndarray, lab: int, blocked: set[int]) -> float:
    """Crank a unit or connect a load block; minutes used (0 when nothing was possible)."""
    lim = r.pickup_limit(labels, lab)
    gbus = np.asarray(r.grid.gen["bus"])
    bs = r.black_start
    waiting = np.flatnonzero((r.unit_state == UnitState.OFF) & (labels[gbus] == lab))
    for k in waiting[np.argsort(-r.pmax_mw[waiting], kind="stable")]:
        need = 0.0 if bs[k] else r.params.by_kind(r.params.cranking_fraction, r.gen_kind[k]) * r.pmax_mw[k]
        if need > lim.limit_mw + 1e-9:
            continue
        hot = np.isfinite(r.unit_tripped_h[k]) and r.time_h - r.unit_tripped_h[k] <= r.params.hot_window_h
        table = r.params.start_hot_h if hot else r.params.start_cold_h
        r.unit_state[k], r.cranking_mw[k] = UnitState.STARTING, need
        r.unit_ready_h[k] = r.time_h + r.params.by_kind(table, r.gen_kind[k]) * r.slowdown
        _record(r, lab, lim, need, f"cranking {r.grid.gen['name'][k]}")
        r.log("crank", str(r.grid.gen["name"][k]), why=f"{'hot' if hot else 'cold'} start, "
              f"{need:.0f} MW auxiliaries")
        return r.params.pickup_interval_min
    if lim.limit_mw < _MIN_BLOCK_MW:
        return 0.0
    cand = np.flatnonzero((labels[r.load_bus] == lab) & (r.served_fraction < 1.0 - 1e-9) & (r.demand_mw > 0))
    cand = np.array([i for i in cand if int(i) not in blocked
                     and r.retry_h.get(("load", int(i)), -1.0) <= r.time_h], dtype=int)
    if cand.size == 0:
        return 0.0
    order = cand[np.lexsort((-r.demand_mw[cand], -r.priority[cand]))]
    base = r.max_loading(labels, lab)
    for i in order[:_TRIES]:
        full = min(lim.limit_mw, r.demand_mw[i] * (1.0 - r.served_fraction[i]))
        before = r.served_fraction[i]
        for block in (full, full / 4.0, full / 16.0):  # smaller blocks on a weak path
            if block < min(_MIN_BLOCK_MW, full) - 1e-12:
                break
            r.served_fraction[i] = min(1.0, before + block / r.demand_mw[i])
            if r.flow_ok(labels, lab, base):
                _record(r, lab, lim, block, str(r.grid.load["name"][i]))
                return r.params.pickup_interval_min
            r.served_fraction[i] = before
        blocked.add(int(i))
        r.retry_h[("load", int(i))] = r.time_h + _RETRY_H
    return 0.0


def _record(r: RestorationState, lab: int, lim: PickupLimit, block_mw: float,
            what: str) -> None:
    r.pickups.append({"time_h": round(r.time_h, 3), "island": lab, "what": what,
                      "block_mw": float(block_mw), **lim.to_dict()})


def _values(r: RestorationState, labels: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Value of reaching each bus: decayed priority-weighted dark demand and units."""
    nb = r.grid.bus.n
    w_load = np.bincount(r.load_bus, weights=r.priority * r.demand_mw * (1.0 - r.served_fraction), minlength=nb)
    gbus = np.asarray(r.grid.gen["bus"])
    waiting = np.isin(r.unit_state, [UnitState.OFF, UnitState.DAMAGED])
    w_gen = np.bincount(gbus[waiting], weights=r.pmax_mw[waiting] * r.params.gen_priority, minlength=nb)
    w = np.where(live, 0.0, w_load + w_gen)
    with np.errstate(invalid="ignore"):
        decay = np.where(np.isfinite(r.hops), _DECAY ** r.hops, 0.0)
    return decay @ w


def _switch(r: RestorationState, labels: np.ndarray, live: np.ndarray, lab: int,
            blocked: set[int]) -> float:
    """Close the most valuable branch touching island ``lab``; minutes used (0: none)."""
    here = labels == lab
    ok = (~r.branch_closed) & (r.branch_status == READY) & (r.branch_ready_h <= r.time_h + 1e-9)
    ok &= here[r.from_bus] | here[r.to_bus]
    ok &= ~(r.bricked_bus[r.from_bus] | r.bricked_bus[r.to_bus])
    cand = [int(i) for i in np.flatnonzero(ok) if int(i) not in blocked
            and r.retry_h.get(("branch", int(i)), -1.0) <= r.time_h]
    if not cand:
        return 0.0
    values = _values(r, labels, live)
    unserved = r.priority * r.demand_mw * (1.0 - r.served_fraction)
    scored = []
    for i in cand:
        a, b = int(r.from_bus[i]), int(r.to_bus[i])
        far = b if here[a] else a
        if here[a] and here[b]:
            score, kind = 1e-3 * float(r.grid.branch["rate_a_mva"][i] or 1.0), "close loop"
        elif live[far]:
            both = (labels[r.load_bus] == lab) | (labels[r.load_bus] == labels[far])
            score, kind = 10.0 * float(unserved[both].sum()) + 1.0, "synchronise"
        else:
            score, kind = float(values[far]), "energise"
        if score > 0:
            scored.append((score, i, kind))
    base = r.max_loading(labels, lab)
    for score, i, kind in sorted(scored, reverse=True)[:_TRIES]:
        cost = r.params.sync_min if kind == "synchronise" else r.params.switching_min
        if r.reclose_fails and not r.reclose_attempted[i]:
            r.reclose_attempted[i] = True
            r.log("reclose failed", str(r.grid.branch["name"][i]), why="interference")
            return cost
        r.branch_closed[i] = True
        new_labels, _ = r.islands()
        if r.flow_ok(new_labels, int(new_labels[r.from_bus[i]]), base):
            r.close_log.append((r.time_h, i))
            r.log(kind, str(r.grid.branch["name"][i]), why=f"value {score:.0f}")
            return cost
        r.branch_closed[i] = False
        blocked.add(i)
        r.retry_h[("branch", i)] = r.time_h + _RETRY_H
    return 0.0
