"""Scenario state of the compiled cascade loop, and its island step.

The compiled functions of :mod:`blackout.study.fastdc._compiled.loop` pass the model's
arrays (``CompiledGrid``), the base case (``BaseArrays``) and one scenario slot's state
(``Workspace``) as named tuples of arrays (:mod:`blackout.study.fastdc._compiled.arrays`);
this module allocates a slot (``new_work``) and finds the islands of a slot (a pass over a
spanning forest, then union-find over the chords in service) and balances them (the rule
of :meth:`blackout.study.fastdc.model.DCModel.balance`, the same sums in the same order).
"""

from __future__ import annotations

import numpy as np

from blackout.study.fastdc._compiled.arrays import CompiledGrid, Workspace
from blackout.study.jit import njit

__all__ = ["WOODBURY_MAX"]

#: outage sets that keep the base islands are Woodbury updates of the base flows (when the
#: model holds all of H) up to this many branches out; beyond, the sparse path
WOODBURY_MAX = 32




@njit(cache=True)
def new_work(nb: int, nl: int, n_a: int, ng: int) -> Workspace:  # pragma: no cover - compiled
    """Scratch and state arrays of one scenario slot (see ``Workspace``)."""
    return Workspace(np.zeros((8, nb)), np.zeros((5, nb), dtype=np.int64),
            np.zeros((2, nb), dtype=np.bool_), np.zeros(nl, dtype=np.bool_), np.zeros(nl),
            np.zeros(nl, dtype=np.int64), np.zeros(WOODBURY_MAX, dtype=np.int64),
            np.zeros((WOODBURY_MAX, WOODBURY_MAX)), np.zeros(WOODBURY_MAX),
            np.zeros(64, dtype=np.uint64), np.zeros(nl, dtype=np.int64),
            np.zeros(12, dtype=np.int64), np.zeros(2), np.zeros(max(n_a, 1)),
            np.zeros((3, nb), dtype=np.int64), np.zeros(nl), np.zeros(max(ng, 1)),
            np.zeros((6, nb)))


@njit(cache=True)
def find_islands(ws: Workspace, grid: CompiledGrid) -> int:  # pragma: no cover - compiled
    """Label every bus with its island (0..n-1 in order of each island's lowest bus) over
    the live branches not out (``ws.out``); returns n.

    The plan's spanning forest of the live branches, less the branches out, falls into
    subtrees: one pass in its breadth-first order gives each bus its subtree's top, a
    second each bus its subtree's lowest bus. The chords in service then join subtrees by
    Rem's union-find with splicing (Patwary, Blair and Manne 2010), which keeps every
    parent index at most its child's: each root is its island's lowest bus and one
    ascending pass labels the buses (a bus's parent, lower, is labelled already). The
    forest holds nb - (base islands) of the branches, so union-find sees only the rest."""
    f_bus, t_bus, fv, fp, fe = grid.f_bus, grid.t_bus, grid.forest_v, grid.forest_p, \
        grid.forest_e
    chords = grid.chords
    iw, out = ws.ints, ws.out
    up, label, top = iw[0], iw[1], iw[2]
    nb = up.size
    for i in range(nb):
        top[i] = i
        label[i] = -1
    for q in range(fv.size):  # parents come first: a subtree's top is passed down
        t = top[fp[q]]
        top[fv[q]] = fv[q] if out[fe[q]] else t
    for i in range(nb):  # ascending: the first bus met of a subtree is its lowest
        t = top[i]
        if label[t] < 0:
            label[t] = i
        up[i] = label[t]
    for q in range(chords.size):
        br = chords[q]
        if out[br]:
            continue
        x, y = f_bus[br], t_bus[br]
        while up[x] != up[y]:
            if up[x] < up[y]:
                x, y = y, x
            if x == up[x]:  # x a root: hang it below y's parent
                up[x] = up[y]
                break
            z = up[x]  # splice: x's parent becomes y's (lower) parent, go on from the old
            up[x] = up[y]
            x = z
    n = 0
    for i in range(nb):
        if up[i] == i:
            label[i] = n
            n += 1
        else:
            label[i] = label[up[i]]
    return n


#: the tolerances of :func:`blackout.flow.balance.share_imbalance` (MW, relative)
_TOL_MW = 1e-9
_TOL_REL = 1e-6


@njit(cache=True)
def _share(ws: Workspace, n_isl: int, grid: CompiledGrid) -> None:  # pragma: no cover - compiled
    """Every energised island's units from the case dispatch by the participation rule:
    :func:`blackout.flow.balance.dispatch_island` (``share_imbalance``'s passes, capping
    at each unit's limit, for all islands at once; a test checks it against that
    function). Reads ``need`` (the island's load plus shunt conductance, MW) from
    ``ws.share[1]`` and the units per island from ``ws.ints[3]``; leaves each unit's output in
    ``ws.gen_p`` and each island's residual (MW, what no unit could take) in ``ws.floats[4]``."""
    gen_bus, gen_on, pc, lo, hi, w_up, w_dn = grid.gen_bus, grid.gen_on, grid.gen_pc, grid.gen_lo, \
        grid.gen_hi, grid.w_up, grid.w_dn
    label, cnt = ws.ints[1], ws.ints[3]
    rem = ws.floats[4]
    delta, need, moved, capped, done, tot = ws.share[0], ws.share[1], ws.share[2], ws.share[3], \
        ws.share[4], ws.share[5]
    p = ws.gen_p
    for k in range(n_isl):
        delta[k] = need[k]
    for g in range(gen_bus.size):
        p[g] = pc[g]
        if gen_on[g]:
            delta[label[gen_bus[g]]] -= pc[g]
    active = 0
    for k in range(n_isl):
        rem[k] = delta[k]
        done[k] = 0.0 if cnt[k] > 0 else 1.0
        if cnt[k] > 0:
            active += 1
    for _ in range(gen_bus.size + 1):
        if active == 0:
            break
        for k in range(n_isl):
            tot[k] = 0.0
            if done[k] == 0.0 and abs(rem[k]) <= _TOL_MW:
                done[k] = 1.0
                active -= 1
        for g in range(gen_bus.size):  # the free units' weights, in the change's direction
            if gen_on[g]:
                k = label[gen_bus[g]]
                if done[k] == 0.0:
                    up = delta[k] > 0
                    w = w_up[g] if up else w_dn[g]
                    room = hi[g] - p[g] if rem[k] > 0 else lo[g] - p[g]
                    if w > 0 and abs(room) > _TOL_MW:
                        tot[k] += w
        for k in range(n_isl):  # an island with no free unit is finished
            if done[k] == 0.0 and tot[k] <= 0.0:
                done[k] = 1.0
                active -= 1
        for k in range(n_isl):
            moved[k] = 0.0
            capped[k] = 0.0
        for g in range(gen_bus.size):
            if gen_on[g]:
                k = label[gen_bus[g]]
                if done[k] == 0.0:
                    up = delta[k] > 0
                    w = w_up[g] if up else w_dn[g]
                    room = hi[g] - p[g] if rem[k] > 0 else lo[g] - p[g]
                    if w > 0 and abs(room) > _TOL_MW:
                        step = rem[k] * w / tot[k]
                        if abs(step) >= abs(room):
                            step = room
                            capped[k] = 1.0
                        p[g] += step
                        moved[k] += step
        for k in range(n_isl):
            if done[k] == 0.0:
                rem[k] -= moved[k]
                if capped[k] == 0.0:
                    if abs(rem[k]) <= _TOL_REL * max(1.0, abs(delta[k])):
                        rem[k] = 0.0
                    done[k] = 1.0
                    active -= 1
    for g in range(gen_bus.size):
        if gen_on[g]:
            p[g] = min(max(p[g], lo[g]), hi[g])
        else:
            p[g] = 0.0


@njit(cache=True)
def balance_slot(ws: Workspace, n_isl: int, grid: CompiledGrid,
             base_mva: float) -> float:  # pragma: no cover - compiled
    """The island balancing rule (:meth:`DCModel.balance`: the case dispatch, each island's
    imbalance shared by participation, :func:`_share`) on the island labels: bus
    injections (pu), dark islands, grounded positions (dark buses and each energised
    island's slack); returns the served load, MW."""
    pos, ref_buses, gen_order = grid.pos, grid.ref_buses, grid.gen_order
    gs_mw, load_mw, bus_in = grid.gs_mw, grid.load_mw, grid.bus_in
    gen_bus, gen_on = grid.gen_bus, grid.gen_on
    fw, iw, bw = ws.floats, ws.ints, ws.flags
    need, served, resid, p = fw[1], fw[2], fw[4], fw[5]
    label, cnt, slack = iw[1], iw[3], iw[4]
    grounded, dead = bw[0], bw[1]
    demand = ws.share[1]
    gp = ws.gen_p
    nb = label.size
    for k in range(n_isl):
        cnt[k] = 0
        need[k] = 0.0
        demand[k] = 0.0
        slack[k] = -1
    for g in range(gen_bus.size):
        if gen_on[g]:
            cnt[label[gen_bus[g]]] += 1
    for i in range(nb):
        need[label[i]] += load_mw[i]
        demand[label[i]] += load_mw[i] + gs_mw[i]
    _share(ws, n_isl, grid)  # units in gp, residual per island in resid
    for k in range(n_isl):
        sv = 0.0
        if cnt[k] > 0:
            sv = 1.0
            r = resid[k]
            if r > 0 and need[k] > 0:
                sv = min(1.0, max(0.0, 1.0 - r / need[k]))
        served[k] = sv
        dead[k] = cnt[k] == 0
        resid[k] = 0.0
    for i in range(nb):
        p[i] = 0.0
    for g in range(gen_bus.size):
        if gen_on[g]:
            p[gen_bus[g]] += gp[g]
    served_mw = 0.0
    for i in range(nb):
        ld = load_mw[i] * served[label[i]]
        served_mw += ld
        p[i] = p[i] - ld - gs_mw[i]
        if dead[label[i]] or not bus_in[i]:
            p[i] = 0.0
        resid[label[i]] += p[i]
    for j in range(ref_buses.size):
        r = ref_buses[j]
        if slack[label[r]] < 0:
            slack[label[r]] = r
    for j in range(gen_order.size):
        gb = gen_bus[gen_order[j]]
        if slack[label[gb]] < 0:
            slack[label[gb]] = gb
    for k in range(n_isl):
        if slack[k] >= 0:
            p[slack[k]] -= resid[k]
    for i in range(nb):
        p[i] /= base_mva
        grounded[pos[i]] = dead[label[i]]
    for k in range(n_isl):
        if slack[k] >= 0:
            grounded[pos[slack[k]]] = True
    return served_mw
