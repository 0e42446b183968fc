"""Single-branch outages that split an island (bridges), all at once, for the N-1 screen.

A bridge is a tree edge of any spanning forest of the base topology, and the part its
outage cuts off is the subtree below it: contiguous in the forest's preorder. So no
graph search per outage: one depth-first search gives, for every bridge, the buses of
the split-off part ``S`` (a preorder range) and of the rest ``R`` of its base island
``L``. The island balancing rule of :meth:`DCModel.balance` with the headroom rule
(every unit moves from the case dispatch by the same fraction of its room in the
direction of the island's imbalance, shortfall shed uniformly, islands without generation
dead, the rest at the island's slack) is applied to ``S`` and ``R`` from their sums;
(other participation rules cap units one by one: screen_n1 takes the general path); every
other island keeps its base injections. Because each of ``S`` and ``R`` is balanced
after the rule, the base-topology DC flow of the new injections carries nothing on the
bridge and is exactly the post-outage flow: one multi-right-hand-side solve per block
of bridges, then per-outage statistics in one compiled pass (no flow matrix is formed).

Compiled with numba.
"""

from __future__ import annotations

import numpy as np

from blackout.study.fastdc._compiled import linalg as kernels
from blackout.study.fastdc.model import DCModel
from blackout.study.jit import CHUNKS, njit, prange

__all__ = ["bridge_outage_stats", "spanning_forest"]


def spanning_forest(nb: int, f: np.ndarray, t: np.ndarray, live: np.ndarray,
                    roots: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Depth-first spanning forest of the buses ``0..nb-1`` joined by the ``live``
    branches ``f -> t``, each tree rooted at the first of ``roots`` (default: bus order)
    in its component: ``(parent_edge, tin, size, at)`` per bus: the branch to its
    parent (-1 at a root), its preorder position, its subtree size, and ``at`` the bus
    at each preorder position. The subtree of ``u`` is ``at[tin[u]:tin[u] + size[u]]``."""
    edges = np.flatnonzero(live).astype(np.int64)
    ends = np.concatenate([f[edges], t[edges]]).astype(np.int64)
    other = np.concatenate([t[edges], f[edges]]).astype(np.int64)
    eid = np.concatenate([edges, edges])
    order = np.argsort(ends, kind="stable")
    ptr = np.zeros(nb + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=nb), out=ptr[1:])
    start = np.arange(nb, dtype=np.int64) if roots is None else np.concatenate(
        [np.asarray(roots, dtype=np.int64), np.arange(nb, dtype=np.int64)])
    return _dfs(nb, ptr, other[order], eid[order], start)


@njit(cache=True)
def _dfs(nb: int, ptr: np.ndarray, nbr: np.ndarray, eid: np.ndarray, start: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    parent_edge = np.full(nb, -1, dtype=np.int64)
    tin = np.full(nb, -1, dtype=np.int64)
    size = np.ones(nb, dtype=np.int64)
    at = np.empty(nb, dtype=np.int64)
    stack = np.empty(nb, dtype=np.int64)
    nxt = ptr[:-1].copy()
    clock = 0
    for root in start:
        if tin[root] >= 0:
            continue
        tin[root] = clock
        at[clock] = root
        clock += 1
        top = 0
        stack[0] = root
        while top >= 0:
            u = stack[top]
            if nxt[u] < ptr[u + 1]:
                p = nxt[u]
                nxt[u] += 1
                v = nbr[p]
                if tin[v] < 0:
                    tin[v] = clock
                    at[clock] = v
                    clock += 1
                    parent_edge[v] = eid[p]
                    top += 1
                    stack[top] = v
            else:
                top -= 1
                if top >= 0:
                    size[stack[top]] += size[u]
    return parent_edge, tin, size, at

@njit(cache=True)
def _side(cnt: float, pc: float, up: float, dn: float, load: float, gs: float
          ) -> tuple[float, float, float]:  # pragma: no cover - compiled
    """The headroom rule on one island from its sums (MW): (fraction of the up-room
    taken, fraction of the down-room given back, fraction of the load served);
    :func:`blackout.flow.balance.dispatch_island` with ``rule="headroom"`` in closed
    form (every unit moves by the same fraction of its room, so none is capped before
    all are)."""
    if cnt <= 0:
        return 0.0, 0.0, 0.0
    delta = load + gs - pc
    f_up, f_dn, resid = 0.0, 0.0, 0.0
    if delta > 1e-9:
        if up > 0 and delta < up:
            f_up = delta / up
        else:
            f_up = 1.0 if up > 0 else 0.0
            resid = delta - up if up > 0 else delta
    elif delta < -1e-9:
        if dn > 0 and -delta < dn:
            f_dn = -delta / dn
        else:
            f_dn = 1.0 if dn > 0 else 0.0
    served = 1.0
    if resid > 0 and load > 0:
        served = min(1.0, max(0.0, 1.0 - resid / load))
    return f_up, f_dn, served

@njit(parallel=True, cache=True)
def _injections(child: np.ndarray, labels: np.ndarray, tin: np.ndarray, size: np.ndarray,
                at: np.ndarray, isl_sum: np.ndarray, bus_sum: np.ndarray,
                ref_bus: np.ndarray, gen_rank: np.ndarray, p0_mw: np.ndarray,
                rhs_row: np.ndarray, base_mva: float, y: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                           np.ndarray]:
    """Per bridge j (split-off subtree ``S`` of ``child[j]``; the rest ``R`` of its base
    island holds the island's slack, the tree's root): the injection change of the
    balancing rule is ``a_up_j * up + a_dn_j * dn + beta_j * load`` on the whole island
    (``R``'s new headroom fractions and served fraction against the base ones; ``up``
    and ``dn`` the units' room per bus) plus a correction on ``S`` only, written (pu)
    into column j of ``y`` in solver row order. ``isl_sum`` and ``bus_sum`` (6 rows:
    units, case dispatch, up-room, down-room, load, shunt conductance; MW) per island
    and per bus. Returns (a_up, a_dn, beta, S dead, island dead, load served in the
    island, MW)."""  # pragma: no cover
    k = child.size
    a_up = np.zeros(k)
    a_dn = np.zeros(k)
    beta = np.zeros(k)
    dead_s = np.zeros(k, dtype=np.bool_)
    dead_l = np.zeros(k, dtype=np.bool_)
    served_mw = np.zeros(k)
    big = np.iinfo(np.int64).max
    for j in prange(k):
        c = child[j]
        isl = labels[c]
        lo, hi = tin[c], tin[c] + size[c]
        if isl_sum[0, isl] == 0:  # a dead base island stays dead
            dead_s[j] = True
            dead_l[j] = True
            continue
        ss = np.zeros(6)
        for q in range(lo, hi):
            bb = at[q]
            for r in range(6):
                ss[r] += bus_sum[r, bb]
        u0, d0, served0 = _side(isl_sum[0, isl], isl_sum[1, isl], isl_sum[2, isl],
                                isl_sum[3, isl], isl_sum[4, isl], isl_sum[5, isl])
        ur, dr, served_r = _side(isl_sum[0, isl] - ss[0], isl_sum[1, isl] - ss[1],
                                 isl_sum[2, isl] - ss[2], isl_sum[3, isl] - ss[3],
                                 isl_sum[4, isl] - ss[4], isl_sum[5, isl] - ss[5])
        us, ds, served_s = _side(ss[0], ss[1], ss[2], ss[3], ss[4], ss[5])
        dead = ss[0] == 0
        dead_s[j] = dead
        au, ad, be = ur - u0, d0 - dr, served0 - served_r
        a_up[j], a_dn[j], beta[j] = au, ad, be
        served_mw[j] = ss[4] * served_s + (isl_sum[4, isl] - ss[4]) * served_r
        # S's slack: the lowest type-3 bus with generation, else the largest generator's
        ref = big
        best = big
        slack = -1
        resid = 0.0
        for q in range(lo, hi):
            bb = at[q]
            pn = 0.0
            if not dead:
                pn = (bus_sum[1, bb] + us * bus_sum[2, bb] - ds * bus_sum[3, bb]
                      - bus_sum[4, bb] * served_s - bus_sum[5, bb])
                if ref_bus[bb] and bb < ref:
                    ref = bb
                if gen_rank[bb] < best:
                    best = gen_rank[bb]
                    slack = bb
            resid += pn
            r = rhs_row[bb]
            if r >= 0:
                y[r, j] = (pn - p0_mw[bb] - au * bus_sum[2, bb] - ad * bus_sum[3, bb]
                           - be * bus_sum[4, bb]) / base_mva
        if ref < big:
            slack = ref
        if not dead and slack >= 0:
            r = rhs_row[slack]
            if r >= 0:
                y[r, j] -= resid / base_mva
    return a_up, a_dn, beta, dead_s, dead_l, served_mw

@njit(parallel=True, fastmath=True, cache=True)
def _stats(theta: np.ndarray, row: np.ndarray, bridge: np.ndarray, child: np.ndarray,
           labels: np.ndarray, tin: np.ndarray, size: np.ndarray, dead_s: np.ndarray,
           dead_r: np.ndarray, base_dead: np.ndarray, a_up: np.ndarray, a_dn: np.ndarray,
           beta: np.ndarray, f_up: np.ndarray, f_dn: np.ndarray, f_load: np.ndarray, f_bus: np.ndarray, t_bus: np.ndarray, b_pu: np.ndarray,
           f0: np.ndarray, inv: np.ndarray, q2: np.ndarray, dp: np.ndarray, lim: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                      np.ndarray, np.ndarray]:  # pragma: no cover
    """Per bridge outage: worst loading, its branch, overloads (> 1), the worst
    estimated MVA loading, new and worsened violations (``lim``: see
    :func:`kernels.accumulate`), from the base-topology angle changes ``theta``."""
    k = bridge.size
    nl = f_bus.size
    worst = np.zeros(k)
    arg = np.zeros(k, dtype=np.int64)
    count = np.zeros(k, dtype=np.int64)
    est = np.zeros(k)
    new = np.zeros(k, dtype=np.int64)
    worse = np.zeros(k, dtype=np.int64)
    caused = np.zeros(k)
    nchunk = min(k, CHUNKS)
    step = (k + nchunk - 1) // nchunk
    for ch in prange(nchunk):
        j0 = ch * step
        j1 = min(k, j0 + step)
        for lb in range(nl):
            fb = f_bus[lb]
            tf, tt = theta[row[fb]], theta[row[t_bus[lb]]]
            bl, fl, il, ql, dl, ll = b_pu[lb], f0[lb], inv[lb], q2[lb], dp[lb], lim[lb]
            il2 = il * il
            for j in range(j0, j1):
                post = fl + bl * (tf[j] - tt[j])
                if lb == bridge[j]:
                    post = 0.0
                elif labels[fb] == labels[child[j]]:
                    c = child[j]
                    in_s = tin[c] <= tin[fb] < tin[c] + size[c]
                    if (in_s and dead_s[j]) or (not in_s and dead_r[j]):
                        post = 0.0
                    else:
                        post += a_up[j] * f_up[lb] + a_dn[j] * f_dn[lb] + beta[j] * f_load[lb]
                elif base_dead[fb]:
                    post = 0.0
                kernels.accumulate(post, post == 0.0, j, lb, il, il2, ql, dl, ll,
                                   worst, arg, count, est, new, worse, caused)
    return worst, arg, count, np.sqrt(est), new, worse, caused

def bridge_outage_stats(model: DCModel, bridges: np.ndarray, q0_pu: np.ndarray,
                        dp_pu: np.ndarray, block: int = 512,
                        lim: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                   np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """N-1 statistics of the outage of each branch in ``bridges`` (each one alone
    splits its base island): ``(worst loading, worst branch, overloads, estimated MVA
    loading, load lost MW)``, loadings as fractions of ``rate_a_mva`` (0 where
    unrated). ``q0_pu``: base-case reactive flow per branch and ``dp_pu`` AC minus DC
    base-case active flow (pu), as in :func:`blackout.study.contingency.n1.screen_n1`'s
    estimate; ``lim`` as in :func:`kernels.accumulate` (default: no base-case
    violation), adding the new and the worsened violations and the worst loading they
    cause per outage to the returned tuple. Same results as the general islanded path of
    :func:`blackout.study.fastdc.engine.post_outage_flows`."""
    nb, nl = model.bus_in.size, model.n_branch
    labels = model.island_labels(np.zeros(nl, dtype=bool))
    refs = np.setdiff1d(np.arange(nb), model.keep)  # one per base island: its slack
    parent_edge, tin, size, at = spanning_forest(nb, model.f_bus, model.t_bus, model.live,
                                                 roots=refs)
    child_of = np.full(nl, -1, dtype=np.int64)
    has = parent_edge >= 0
    child_of[parent_edge[has]] = np.flatnonzero(has)
    bridges = np.asarray(bridges, dtype=np.int64)
    child = child_of[bridges]
    if (child < 0).any() or (model.xor_label[bridges] != 0).any():
        raise ValueError("bridge_outage_stats: a branch given is not a bridge of the base "
                         "topology")
    n_isl = int(labels.max()) + 1
    on = model.gen_on
    lo_g = np.asarray(model.pmin_mw, dtype=float)
    hi_g = np.maximum(np.asarray(model.pmax_mw, dtype=float), lo_g)
    pc = np.clip(np.asarray(model.gen_p_case_mw, dtype=float), lo_g, hi_g)
    gb = model.gen_bus[on]
    # per bus: units, case dispatch, up-room, down-room, load, shunt conductance (MW)
    bus_sum = np.stack([np.bincount(gb, minlength=nb).astype(float),
                        np.bincount(gb, weights=pc[on], minlength=nb),
                        np.bincount(gb, weights=(hi_g - pc)[on], minlength=nb),
                        np.bincount(gb, weights=(pc - lo_g)[on], minlength=nb),
                        np.asarray(model.load_bus_mw, dtype=float),
                        np.asarray(model.gs_mw, dtype=float)])
    isl_sum = np.stack([np.bincount(labels, weights=row, minlength=n_isl)
                        for row in bus_sum])
    big = np.iinfo(np.int64).max
    gen_rank = np.full(nb, big, dtype=np.int64)
    np.minimum.at(gen_rank, model.gen_bus[model.gen_by_pmax],
                  np.arange(model.gen_by_pmax.size, dtype=np.int64))
    # base-topology flows (pu) of the room and demand vectors, for a_up, a_dn and beta
    fcl = model.base_flows(bus_sum[2:5].T / model.base_mva
                           + model.pbusinj_pu[:, None]) - model.pfinj_pu[:, None]
    f_up, f_dn = np.ascontiguousarray(fcl[:, 0]), np.ascontiguousarray(fcl[:, 1])
    f_load = np.ascontiguousarray(fcl[:, 2])
    p0_mw = model.p0_pu * model.base_mva
    row, rhs_row = model.solver_rows()
    inv = np.where(model.rate_mva > 0, model.base_mva / np.where(model.rate_mva > 0,
                                                                  model.rate_mva, 1.0), 0.0)
    q2 = q0_pu ** 2
    base_dead = (isl_sum[0][labels] == 0) | ~model.bus_in
    n = bridges.size
    worst, arg = np.zeros(n), np.zeros(n, dtype=np.int64)
    count, est, served = np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n)
    new, worse = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    caused = np.zeros(n)
    lim = np.zeros(nl) if lim is None else np.asarray(lim, dtype=float)
    lp, li, lx, upp, ui, ux = model.lu_arrays()[2:]
    nred = model.keep.size
    served_other = float(model.load0_bus_mw.sum())
    isl_load0 = np.bincount(labels, weights=model.load0_bus_mw, minlength=n_isl)
    y_buf = np.empty((nred + 1, min(n, block)))
    for lo in range(0, n, block):
        s = slice(lo, min(n, lo + block))
        y = y_buf[:, :s.stop - lo]
        y[:] = 0.0
        a_up, a_dn, beta, dead_s, dead_l, served_l = _injections(
            child[s], labels, tin, size, at, isl_sum, bus_sum, model.ref_gen_bus,
            gen_rank, p0_mw, rhs_row, model.base_mva, y)
        kernels.lu_solve_rows(lp, li, lx, upp, ui, ux, y[:nred])
        worst[s], arg[s], count[s], est[s], new[s], worse[s], caused[s] = _stats(
            y, row, bridges[s], child[s], labels, tin, size, dead_s, dead_l, base_dead,
            a_up, a_dn, beta, f_up, f_dn, f_load, model.f_bus, model.t_bus, model.b_pu,
            model.f0_pu, inv, q2, dp_pu, lim)
        served_l = np.where(dead_l, isl_load0[labels[child[s]]], served_l)
        served[s] = served_other - isl_load0[labels[child[s]]] + served_l
    lost = float(model.load_bus_mw.sum()) - served
    return worst, arg, count, est, lost, new, worse, caused
