"""The compiled DC cascade loop of the fast engine: one numba function runs whole cascades.

Each scenario runs the simple DC rule (see :mod:`blackout.study.batch`) start to end in
compiled code, scenarios split between threads (``prange``; each is independent, so the
results do not depend on the thread count). Per round:

1. islands: union-find over the in-service branches (linear in the grid's size);
2. when the number of islands changed (outages only split, so the partition changed):
   the island balancing rule of :meth:`DCModel.balance`, the same sums in the same order;
3. DC flows of the current topology from a sparse LDL^T factorisation of its B matrix
   (no pivoting, like the model's SuperLU), with each energised island grounded at its
   slack bus and every bus of a dark island grounded (its branches carry nothing). The
   elimination order is the base factorisation's fill-reducing order, fixed for the
   model, so the fill of any outage set fits in the base pattern; the elimination tree
   is the current topology's, so a shattered grid costs what it has left, not the base;
4. every in-service branch with ``|P| > limit`` trips (ascending branch order).

A zero pivot (possible only with negative susceptances) flags the scenario; the caller
runs it again on the numpy path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CascadePlan", "plan_of", "run_block"]

try:
    from numba import get_num_threads, njit, prange
except ImportError:  # pragma: no cover - without numba batch.py runs its numpy path
    prange = range  # type: ignore[assignment,misc]

    def njit(*_a: Any, **_k: Any) -> Any:  # type: ignore[no-redef]
        return lambda f: f

    def get_num_threads() -> int:  # type: ignore[misc]
        return 1


@dataclass(frozen=True)
class CascadePlan:
    """Per-model arrays of the compiled loop (read-only, built once per :class:`DCModel`).

    pos : elimination position of each bus (the base LU's column order, references last).
    colp, coli, colbr : for each position ``k``, the live branches to lower positions
        ``coli[colp[k]:colp[k+1]]`` (CSC of the strict upper triangle) and their indices.
    lp : column pointers of the base pattern of L (an upper bound for any outage set).
    ref_buses : type-3 buses with an in-service generator, ascending (slack first choice).
    gen_order : in-service generators, largest pmax first (ties: lower index).
    """

    pos: np.ndarray
    colp: np.ndarray
    coli: np.ndarray
    colbr: np.ndarray
    lp: np.ndarray
    ref_buses: np.ndarray
    gen_order: np.ndarray
    pmax_on: np.ndarray  # max(pmax_mw, 0) for in-service generators, 0 otherwise, MW
    gs_mw: np.ndarray
    load_mw: np.ndarray
    bus_in: np.ndarray
    live: np.ndarray
    f_bus: np.ndarray
    t_bus: np.ndarray
    b_pu: np.ndarray
    pf_pu: np.ndarray
    gen_bus: np.ndarray
    gen_on: np.ndarray
    base_mva: float


def plan_of(model: object) -> CascadePlan:
    """The :class:`CascadePlan` of a :class:`~blackout.study.dcmodel.DCModel`, built on first
    use and kept on the model."""
    plan = model.__dict__.get("_cascade_plan")
    if plan is None:
        plan = _build_plan(model)
        model.__dict__["_cascade_plan"] = plan
    return plan  # type: ignore[no-any-return]


def _build_plan(model) -> CascadePlan:  # type: ignore[no-untyped-def]
    nb = int(model.bus_in.size)
    keep = np.asarray(model.keep, dtype=np.int64)
    pos = np.empty(nb, dtype=np.int64)
    pos[keep] = np.asarray(model.lu.perm_c, dtype=np.int64)
    rest = np.setdiff1d(np.arange(nb), keep)
    pos[rest] = keep.size + np.arange(rest.size)
    live = np.flatnonzero(model.live)
    pf_, pt_ = pos[model.f_bus[live]], pos[model.t_bus[live]]
    ok = pf_ != pt_
    live, pf_, pt_ = live[ok], pf_[ok], pt_[ok]
    hi, lo = np.maximum(pf_, pt_), np.minimum(pf_, pt_)
    order = np.lexsort((lo, hi))
    colp = np.zeros(nb + 1, dtype=np.int64)
    np.add.at(colp, hi + 1, 1)
    colp = np.cumsum(colp)
    coli = lo[order].astype(np.int64)
    colbr = live[order].astype(np.int64)
    lnz = _base_column_counts(nb, colp, coli)
    lp = np.concatenate([[0], np.cumsum(lnz)]).astype(np.int64)
    on = np.asarray(model.gen_on, dtype=bool)
    pmax_on = np.where(on, np.maximum(np.asarray(model.pmax_mw, dtype=float), 0.0), 0.0)
    return CascadePlan(
        pos=pos, colp=colp, coli=coli, colbr=colbr, lp=lp,
        ref_buses=np.flatnonzero(model.ref_gen_bus).astype(np.int64),
        gen_order=np.asarray(model.gen_by_pmax, dtype=np.int64),
        pmax_on=pmax_on, gs_mw=np.asarray(model.gs_mw, dtype=float),
        load_mw=np.asarray(model.load_bus_mw, dtype=float),
        bus_in=np.asarray(model.bus_in, dtype=np.bool_),
        live=np.asarray(model.live, dtype=np.bool_),
        f_bus=np.asarray(model.f_bus, dtype=np.int64),
        t_bus=np.asarray(model.t_bus, dtype=np.int64),
        b_pu=np.asarray(model.b_pu, dtype=float), pf_pu=np.asarray(model.pfinj_pu, dtype=float),
        gen_bus=np.asarray(model.gen_bus, dtype=np.int64), gen_on=on,
        base_mva=float(model.base_mva),
    )


def _base_column_counts(n: int, colp: np.ndarray, coli: np.ndarray) -> np.ndarray:
    """Off-diagonal nonzeros per column of L for the base pattern (LDL symbolic)."""
    parent = np.full(n, -1, dtype=np.int64)
    flag = np.full(n, -1, dtype=np.int64)
    lnz = np.zeros(n, dtype=np.int64)
    _symbolic(n, colp, coli, parent, flag, lnz)
    return lnz


@njit(cache=True)
def _symbolic(n: int, colp: np.ndarray, coli: np.ndarray, parent: np.ndarray,
              flag: np.ndarray, lnz: np.ndarray) -> None:  # pragma: no cover - compiled
    for k in range(n):
        parent[k] = -1
        flag[k] = k
        for p in range(colp[k], colp[k + 1]):
            i = coli[p]
            while flag[i] != k:
                if parent[i] == -1:
                    parent[i] = k
                lnz[i] += 1
                flag[i] = k
                i = parent[i]


def run_block(plan: CascadePlan, init_ptr: np.ndarray, init_idx: np.ndarray,
              limit_pu: np.ndarray, max_rounds: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                         np.ndarray]:
    """Run the cascades of one block of scenarios; scenario ``s`` starts with branches
    ``init_idx[init_ptr[s]:init_ptr[s+1]]`` out.

    Returns ``(trips, n_trips, rounds, lost_mw, islands, ok)``: ``trips[s, :n_trips[s]]``
    the tripped branches in trip order, the rounds that tripped something, the load not
    served at the end (MW), the islands at the end, and False where a zero pivot stopped
    the scenario (its other outputs are then meaningless).
    """
    s = init_ptr.size - 1
    nl = plan.f_bus.size
    trips = np.empty((s, nl), dtype=np.int32)
    n_trips = np.zeros(s, dtype=np.int64)
    rounds = np.zeros(s, dtype=np.int64)
    lost = np.zeros(s)
    islands = np.zeros(s, dtype=np.int64)
    ok = np.ones(s, dtype=np.bool_)
    nchunk = max(1, min(s, 4 * get_num_threads()))
    _cascades(nchunk, init_ptr, init_idx, limit_pu, int(max_rounds), plan.pos, plan.colp,
              plan.coli, plan.colbr, plan.lp, plan.ref_buses, plan.gen_order, plan.pmax_on,
              plan.gs_mw, plan.load_mw, plan.bus_in, plan.live, plan.f_bus, plan.t_bus,
              plan.b_pu, plan.pf_pu, plan.gen_bus, plan.gen_on, plan.base_mva,
              trips, n_trips, rounds, lost, islands, ok)
    return trips, n_trips, rounds, lost, islands, ok


#: one thread's scratch arrays: (floats (10, nb), ints (9, nb), out (nl), grounded (nb),
#: dead (nb), li (nnz), lx (nnz), new (nl))
Work = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
             np.ndarray, np.ndarray]


@njit(parallel=True, cache=True)
def _cascades(nchunk: int, init_ptr: np.ndarray, init_idx: np.ndarray, limit: np.ndarray,
              max_rounds: int, pos: np.ndarray, colp: np.ndarray, coli: np.ndarray,
              colbr: np.ndarray, lp: np.ndarray, ref_buses: np.ndarray, gen_order: np.ndarray,
              pmax_on: np.ndarray, gs_mw: np.ndarray, load_mw: np.ndarray, bus_in: np.ndarray,
              live: np.ndarray, f_bus: np.ndarray, t_bus: np.ndarray, b_pu: np.ndarray,
              pf_pu: np.ndarray, gen_bus: np.ndarray, gen_on: np.ndarray, base_mva: float,
              trips: np.ndarray, n_trips: np.ndarray, rounds: np.ndarray, lost: np.ndarray,
              islands: np.ndarray, ok: np.ndarray) -> None:  # pragma: no cover - compiled
    n_s = init_ptr.size - 1
    nb, nl = pos.size, f_bus.size
    step = (n_s + nchunk - 1) // nchunk
    for c in prange(nchunk):
        ws = (np.zeros((10, nb)), np.zeros((9, nb), dtype=np.int64),
              np.zeros(nl, dtype=np.bool_), np.zeros(nb, dtype=np.bool_),
              np.zeros(nb, dtype=np.bool_), np.zeros(max(lp[-1], 1), dtype=np.int64),
              np.zeros(max(lp[-1], 1)), np.zeros(nl, dtype=np.int64))
        for s in range(c * step, min(n_s, (c + 1) * step)):
            _one(s, init_ptr, init_idx, limit, max_rounds, pos, colp, coli, colbr, lp,
                 ref_buses, gen_order, pmax_on, gs_mw, load_mw, bus_in, live, f_bus, t_bus,
                 b_pu, pf_pu, gen_bus, gen_on, base_mva, trips, n_trips, rounds, lost,
                 islands, ok, ws)


@njit(cache=True)
def _find(uf: np.ndarray, i: int) -> int:  # pragma: no cover - compiled
    while uf[i] != i:
        uf[i] = uf[uf[i]]
        i = uf[i]
    return i


@njit(cache=True)
def _islands(ws: Work, live: np.ndarray, f_bus: np.ndarray,
             t_bus: np.ndarray) -> int:  # pragma: no cover - compiled
    """Label every bus with its island (``ws`` ints row 1; 0..n-1 in order of each
    island's lowest bus); returns n."""
    iw, out = ws[1], ws[2]
    uf, label, root_isl = iw[0], iw[1], iw[2]
    nb = uf.size
    for i in range(nb):
        uf[i] = i
    for br in range(f_bus.size):
        if live[br] and not out[br]:
            a = _find(uf, f_bus[br])
            b = _find(uf, t_bus[br])
            if a != b:
                if a < b:
                    uf[b] = a
                else:
                    uf[a] = b
    n = 0
    for i in range(nb):
        r = _find(uf, i)
        if r == i:
            root_isl[i] = n
            n += 1
        label[i] = root_isl[r]
    return n


@njit(cache=True)
def _balance(ws: Work, n_isl: int, ref_buses: np.ndarray, gen_order: np.ndarray,
             pmax_on: np.ndarray, gs_mw: np.ndarray, load_mw: np.ndarray, bus_in: np.ndarray,
             gen_bus: np.ndarray, gen_on: np.ndarray, base_mva: float,
             pos: np.ndarray) -> float:  # pragma: no cover - compiled
    """The island balancing rule (:meth:`DCModel.balance`, the same sums in the same order)
    on the island labels: bus injections (pu, ``ws`` floats row 5), dark islands, grounded
    positions (dark buses and each energised island's slack); returns served load, MW."""
    fw, iw, grounded, dead = ws[0], ws[1], ws[3], ws[4]
    cap, need, served, disp, resid, p = fw[0], fw[1], fw[2], fw[3], fw[4], fw[5]
    label, cnt, slack = iw[1], iw[3], iw[4]
    nb = label.size
    for k in range(n_isl):
        cnt[k] = 0
        cap[k] = 0.0
        need[k] = 0.0
        resid[k] = 0.0
        slack[k] = -1
    for g in range(gen_bus.size):
        if gen_on[g]:
            isl = label[gen_bus[g]]
            cnt[isl] += 1
            cap[isl] += pmax_on[g]
    for i in range(nb):
        need[label[i]] += load_mw[i]
    for k in range(n_isl):
        sv = 0.0
        if cnt[k] > 0:
            sv = 1.0
            if need[k] > 0:
                sv = min(1.0, cap[k] / need[k])
        served[k] = sv
        disp[k] = need[k] * sv / cap[k] if cap[k] > 0 else 0.0
        dead[k] = cnt[k] == 0
    for i in range(nb):
        p[i] = 0.0
    for g in range(gen_bus.size):
        if gen_on[g]:
            p[gen_bus[g]] += pmax_on[g] * disp[label[gen_bus[g]]]
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


@njit(cache=True)
def _factor_solve(ws: Work, colp: np.ndarray, coli: np.ndarray, colbr: np.ndarray,
                  lp: np.ndarray, b_pu: np.ndarray) -> bool:  # pragma: no cover - compiled
    """x <- B^-1 x (``ws`` floats row 7, by position; grounded positions 0) for the
    current topology: up-looking LDL^T (Davis's LDL) on the current elimination tree
    (``diag``: floats row 6). False on a zero pivot."""
    fw, iw, out, g, li, lx = ws[0], ws[1], ws[2], ws[3], ws[5], ws[6]
    diag, x, y, d = fw[6], fw[7], fw[8], fw[9]
    parent, flag, lnz, pattern = iw[5], iw[6], iw[7], iw[8]
    n = x.size
    for k in range(n):  # elimination tree of the current matrix
        parent[k] = -1
        flag[k] = k
        lnz[k] = 0
        if g[k]:
            continue
        for p in range(colp[k], colp[k + 1]):
            i = coli[p]
            if g[i] or out[colbr[p]]:
                continue
            while flag[i] != k:
                if parent[i] == -1:
                    parent[i] = k
                flag[i] = k
                i = parent[i]
    for k in range(n):
        flag[k] = -1
    for k in range(n):
        if g[k]:
            d[k] = 1.0
            continue
        top = n
        flag[k] = k
        for p in range(colp[k], colp[k + 1]):
            i = coli[p]
            br = colbr[p]
            if g[i] or out[br]:
                continue
            y[i] -= b_pu[br]
            ln = 0
            while flag[i] != k:
                pattern[ln] = i
                ln += 1
                flag[i] = k
                i = parent[i]
            while ln > 0:
                top -= 1
                ln -= 1
                pattern[top] = pattern[ln]
        dk = diag[k]
        for t in range(top, n):
            i = pattern[t]
            yi = y[i]
            y[i] = 0.0
            p2 = lp[i] + lnz[i]
            for p in range(lp[i], p2):
                y[li[p]] -= lx[p] * yi
            lki = yi / d[i]
            dk -= lki * yi
            li[p2] = k
            lx[p2] = lki
            lnz[i] += 1
        y[k] = 0.0
        if dk == 0.0:
            return False
        d[k] = dk
    for j in range(n):  # L z = x
        xj = x[j]
        if xj != 0.0:
            for p in range(lp[j], lp[j] + lnz[j]):
                x[li[p]] -= lx[p] * xj
    for j in range(n):
        x[j] /= d[j]
    for j in range(n - 1, -1, -1):  # L^T theta = z
        xj = x[j]
        for p in range(lp[j], lp[j] + lnz[j]):
            xj -= lx[p] * x[li[p]]
        x[j] = xj
    for j in range(n):
        if g[j]:
            x[j] = 0.0
    return True


@njit(cache=True)
def _one(s: int, init_ptr: np.ndarray, init_idx: np.ndarray, limit: np.ndarray,
         max_rounds: int, pos: np.ndarray, colp: np.ndarray, coli: np.ndarray,
         colbr: np.ndarray, lp: np.ndarray, ref_buses: np.ndarray, gen_order: np.ndarray,
         pmax_on: np.ndarray, gs_mw: np.ndarray, load_mw: np.ndarray, bus_in: np.ndarray,
         live: np.ndarray, f_bus: np.ndarray, t_bus: np.ndarray, b_pu: np.ndarray,
         pf_pu: np.ndarray, gen_bus: np.ndarray, gen_on: np.ndarray, base_mva: float,
         trips: np.ndarray, n_trips: np.ndarray, rounds: np.ndarray, lost: np.ndarray,
         islands: np.ndarray, ok: np.ndarray, ws: Work) -> None:  # pragma: no cover
    """One whole cascade (scenario ``s``), written into the output arrays."""
    fw, iw, out, grounded, dead, new = ws[0], ws[1], ws[2], ws[3], ws[4], ws[7]
    p_bus, diag, x = fw[5], fw[6], fw[7]
    label = iw[1]
    nl, nb = f_bus.size, pos.size
    for br in range(nl):
        out[br] = False
    for p in range(init_ptr[s], init_ptr[s + 1]):
        out[init_idx[p]] = True
    total_load = 0.0
    for i in range(nb):
        total_load += load_mw[i]
    n_isl = -1
    served_mw = 0.0
    nt = 0
    for _ in range(max_rounds + 1):
        cur = _islands(ws, live, f_bus, t_bus)
        if cur != n_isl:  # outages only split islands: same count, same partition
            n_isl = cur
            served_mw = _balance(ws, n_isl, ref_buses, gen_order, pmax_on, gs_mw, load_mw,
                                 bus_in, gen_bus, gen_on, base_mva, pos)
        for i in range(nb):
            x[pos[i]] = p_bus[i]
            diag[i] = 0.0
        for br in range(nl):
            if live[br] and not out[br]:
                pf = pf_pu[br]
                a, b = pos[f_bus[br]], pos[t_bus[br]]
                x[a] -= pf
                x[b] += pf
                diag[a] += b_pu[br]
                diag[b] += b_pu[br]
        for k in range(nb):
            if grounded[k]:
                x[k] = 0.0
        if not _factor_solve(ws, colp, coli, colbr, lp, b_pu):
            ok[s] = False
            return
        n_new = 0
        for br in range(nl):
            if not live[br] or out[br] or dead[label[f_bus[br]]]:
                continue
            fl = b_pu[br] * (x[pos[f_bus[br]]] - x[pos[t_bus[br]]]) + pf_pu[br]
            if abs(fl) > limit[br]:
                new[n_new] = br
                n_new += 1
        if n_new == 0:
            break
        for j in range(n_new):
            out[new[j]] = True
            trips[s, nt] = new[j]
            nt += 1
        rounds[s] += 1
    n_trips[s] = nt
    lost[s] = total_load - served_mw
    islands[s] = n_isl
