"""Single-branch outages that split an island (bridges), all at once, for the N-1 screen.

A bridge is a tree edge of any spanning forest of the base topology, and the part its
outage cuts off is the subtree below it: contiguous in the forest's preorder. So no
graph search per outage: one depth-first search gives, for every bridge, the buses of
the split-off part ``S`` (a preorder range) and of the rest ``R`` of its base island
``L``. The island balancing rule of :meth:`DCModel.balance` (participation by
``pmax_mw`` within limits, shortfall shed uniformly, islands without generation dead,
the rest at the island's slack) is applied to ``S`` and ``R`` from their sums; every
other island keeps its base injections. Because each of ``S`` and ``R`` is balanced
after the rule, the base-topology DC flow of the new injections carries nothing on the
bridge and is exactly the post-outage flow: one multi-right-hand-side solve per block
of bridges, then per-outage statistics in one compiled pass (no flow matrix is formed).

Compiled with numba; :func:`bridge_outage_stats` exists only where numba is installed
(``kernels.HAVE_NUMBA``); :func:`blackout.study.contingency.screen_n1` falls back to
the general islanded path of :mod:`blackout.study.batch` without it.
"""

from __future__ import annotations

import numpy as np

from blackout.study import kernels
from blackout.study.dcmodel import DCModel
from blackout.study.kernels import HAVE_NUMBA

__all__ = ["HAVE_NUMBA", "bridge_outage_stats", "spanning_forest"]


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


if HAVE_NUMBA:
    import numba as _nb

    @_nb.njit(cache=True)
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

    @_nb.njit(parallel=True, cache=True)
    def _injections(child: np.ndarray, labels: np.ndarray, tin: np.ndarray, size: np.ndarray,
                    at: np.ndarray, isl_cnt: np.ndarray, isl_cap: np.ndarray,
                    isl_need: np.ndarray, cap_bus: np.ndarray, cnt_bus: np.ndarray,
                    load_bus: np.ndarray, gs_bus: np.ndarray, ref_bus: np.ndarray,
                    gen_rank: np.ndarray, p0_mw: np.ndarray, rhs_row: np.ndarray,
                    base_mva: float, y: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per bridge j (split-off subtree ``S`` of ``child[j]``; the rest ``R`` of its base
        island holds the island's slack, the tree's root): the injection change of the
        balancing rule is ``alpha_j * cap + beta_j * load`` on the whole island (``R``'s
        new dispatch and served fractions against the base ones) plus a correction on
        ``S`` only, written (pu) into column j of ``y`` in solver row order. Returns
        (alpha, beta, S dead, island dead, load served in the island, MW)."""  # pragma: no cover
        k = child.size
        alpha = np.zeros(k)
        beta = np.zeros(k)
        dead_s = np.zeros(k, dtype=np.bool_)
        dead_l = np.zeros(k, dtype=np.bool_)
        served_mw = np.zeros(k)
        big = np.iinfo(np.int64).max
        for j in _nb.prange(k):
            c = child[j]
            isl = labels[c]
            lo, hi = tin[c], tin[c] + size[c]
            if isl_cnt[isl] == 0:  # a dead base island stays dead
                dead_s[j] = True
                dead_l[j] = True
                continue
            cnt_s = 0.0
            cap_s = 0.0
            need_s = 0.0
            for q in range(lo, hi):
                bb = at[q]
                cnt_s += cnt_bus[bb]
                cap_s += cap_bus[bb]
                need_s += load_bus[bb]
            cap_l, need_l = isl_cap[isl], isl_need[isl]
            served0 = min(1.0, cap_l / need_l) if need_l > 0 else 1.0
            disp0 = need_l * served0 / cap_l if cap_l > 0 else 0.0
            cap_r, need_r = cap_l - cap_s, need_l - need_s
            served_r = min(1.0, cap_r / need_r) if need_r > 0 else 1.0
            disp_r = need_r * served_r / cap_r if cap_r > 0 else 0.0
            if cnt_s > 0:
                served_s = min(1.0, cap_s / need_s) if need_s > 0 else 1.0
            else:
                served_s = 0.0
            disp_s = need_s * served_s / cap_s if cap_s > 0 else 0.0
            dead = cnt_s == 0
            dead_s[j] = dead
            al, be = disp_r - disp0, served0 - served_r
            alpha[j], beta[j] = al, be
            served_mw[j] = need_s * served_s + need_r * served_r
            # S's slack: the lowest type-3 bus with generation, else the largest generator's
            ref = big
            best = big
            slack = -1
            resid = 0.0
            for q in range(lo, hi):
                bb = at[q]
                pn = 0.0
                if not dead:
                    pn = cap_bus[bb] * disp_s - load_bus[bb] * served_s - gs_bus[bb]
                    if ref_bus[bb] and bb < ref:
                        ref = bb
                    if gen_rank[bb] < best:
                        best = gen_rank[bb]
                        slack = bb
                resid += pn
                r = rhs_row[bb]
                if r >= 0:
                    y[r, j] = (pn - p0_mw[bb] - al * cap_bus[bb] - be * load_bus[bb]) / base_mva
            if ref < big:
                slack = ref
            if not dead and slack >= 0:
                r = rhs_row[slack]
                if r >= 0:
                    y[r, j] -= resid / base_mva
        return alpha, beta, dead_s, dead_l, served_mw

    @_nb.njit(parallel=True, fastmath=True, cache=True)
    def _stats(theta: np.ndarray, row: np.ndarray, bridge: np.ndarray, child: np.ndarray,
               labels: np.ndarray, tin: np.ndarray, size: np.ndarray, dead_s: np.ndarray,
               dead_r: np.ndarray, base_dead: np.ndarray, alpha: np.ndarray, beta: np.ndarray,
               f_cap: np.ndarray, f_load: np.ndarray, f_bus: np.ndarray, t_bus: np.ndarray, b_pu: np.ndarray,
               f0: np.ndarray, inv: np.ndarray, q2: np.ndarray, dp: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
        """Per bridge outage: worst loading, its branch, overloads (> 1) and the worst
        estimated MVA loading, from the base-topology angle changes ``theta``."""
        k = bridge.size
        nl = f_bus.size
        worst = np.zeros(k)
        arg = np.zeros(k, dtype=np.int64)
        count = np.zeros(k, dtype=np.int64)
        est = np.zeros(k)
        nchunk = min(k, kernels.CHUNKS)
        step = (k + nchunk - 1) // nchunk
        for ch in _nb.prange(nchunk):
            j0 = ch * step
            j1 = min(k, j0 + step)
            for lb in range(nl):
                fb = f_bus[lb]
                tf, tt = theta[row[fb]], theta[row[t_bus[lb]]]
                bl, fl, il, ql, dl = b_pu[lb], f0[lb], inv[lb], q2[lb], dp[lb]
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
                            post += alpha[j] * f_cap[lb] + beta[j] * f_load[lb]
                    elif base_dead[fb]:
                        post = 0.0
                    kernels.accumulate(post, post == 0.0, j, lb, il, il2, ql, dl,
                                       worst, arg, count, est)
        return worst, arg, count, np.sqrt(est)

    def bridge_outage_stats(model: DCModel, bridges: np.ndarray, q0_pu: np.ndarray,
                            dp_pu: np.ndarray, block: int = 512
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                       np.ndarray]:
        """N-1 statistics of the outage of each branch in ``bridges`` (each one alone
        splits its base island): ``(worst loading, worst branch, overloads, estimated MVA
        loading, load lost MW)``, loadings as fractions of ``rate_a_mva`` (0 where
        unrated). ``q0_pu``: base-case reactive flow per branch and ``dp_pu`` AC minus DC
        base-case active flow (pu), as in :func:`blackout.study.contingency.screen_n1`'s
        estimate. Same results as the general islanded path of
        :func:`blackout.study.batch.post_outage_flows`."""
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
        pmax = np.where(on, np.maximum(model.pmax_mw, 0.0), 0.0)
        cap_bus = np.bincount(model.gen_bus[on], weights=pmax[on], minlength=nb)
        cnt_bus = np.bincount(model.gen_bus[on], minlength=nb).astype(float)
        isl_cnt = np.bincount(labels, weights=cnt_bus, minlength=n_isl)
        isl_cap = np.bincount(labels, weights=cap_bus, minlength=n_isl)
        isl_need = np.bincount(labels, weights=model.load_bus_mw, minlength=n_isl)
        big = np.iinfo(np.int64).max
        gen_rank = np.full(nb, big, dtype=np.int64)
        np.minimum.at(gen_rank, model.gen_bus[model.gen_by_pmax],
                      np.arange(model.gen_by_pmax.size, dtype=np.int64))
        # base-topology flows (pu) of the capacity and demand vectors, for alpha and beta
        fcl = model.base_flows(np.stack([cap_bus, model.load_bus_mw], axis=1) / model.base_mva
                               + model.pbusinj_pu[:, None]) - model.pfinj_pu[:, None]
        f_cap, f_load = np.ascontiguousarray(fcl[:, 0]), np.ascontiguousarray(fcl[:, 1])
        p0_mw = model.p0_pu * model.base_mva
        row, rhs_row = model.solver_rows()
        assert model._factors is not None
        inv = np.where(model.rate_mva > 0, model.base_mva / np.where(model.rate_mva > 0,
                                                                      model.rate_mva, 1.0), 0.0)
        q2 = q0_pu ** 2
        base_dead = (isl_cnt[labels] == 0) | ~model.bus_in
        n = bridges.size
        worst, arg = np.zeros(n), np.zeros(n, dtype=np.int64)
        count, est, served = np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n)
        lp, li, lx, upp, ui, ux = model._factors[2:]
        nred = model.keep.size
        served_other = float(model.load0_bus_mw.sum())
        isl_load0 = np.bincount(labels, weights=model.load0_bus_mw, minlength=n_isl)
        y_buf = np.empty((nred + 1, min(n, block)))
        for lo in range(0, n, block):
            s = slice(lo, min(n, lo + block))
            y = y_buf[:, :s.stop - lo]
            y[:] = 0.0
            alpha, beta, dead_s, dead_l, served_l = _injections(
                child[s], labels, tin, size, at, isl_cnt, isl_cap, isl_need, cap_bus, cnt_bus,
                model.load_bus_mw, model.gs_mw, model.ref_gen_bus, gen_rank, p0_mw, rhs_row,
                model.base_mva, y)
            kernels.lu_solve_rows(lp, li, lx, upp, ui, ux, y[:nred])
            worst[s], arg[s], count[s], est[s] = _stats(
                y, row, bridges[s], child[s], labels, tin, size, dead_s, dead_l, base_dead,
                alpha, beta, f_cap, f_load, model.f_bus, model.t_bus, model.b_pu, model.f0_pu,
                inv, q2, dp_pu)
            served_l = np.where(dead_l, isl_load0[labels[child[s]]], served_l)
            served[s] = served_other - isl_load0[labels[child[s]]] + served_l
        lost = float(model.load_bus_mw.sum()) - served
        return worst, arg, count, est, lost
