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

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["CascadePlan", "plan_of", "run_block"]

#: outage sets that keep the base islands are Woodbury updates of the base flows (when the
#: model holds all of H) up to this many branches out; beyond, the sparse path
WOODBURY_MAX = 32

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
    adjp: np.ndarray  # CSR of the live branches at each bus
    adjb: np.ndarray
    base_mva: float
    ht: np.ndarray  # the model's H transposed (row m = H[:, m]), or (0, nl) without it
    xor: np.ndarray  # the model's XOR cycle-space labels
    f0: np.ndarray  # base-case flows, pu
    kw: int  # Woodbury while at most this many outages keep the base islands (0: never)
    # the base case (intact, balanced): island per bus, injections pu, grounded positions,
    # dark islands, island count, served load MW
    base_label: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    base_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base_grounded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    base_dead: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    base_islands: int = 0
    base_served_mw: float = 0.0

    def grid(self) -> tuple[np.ndarray, ...]:
        """The arrays the compiled functions take, in ``Grid`` order."""
        return (self.pos, self.colp, self.coli, self.colbr, self.lp, self.ref_buses,
                self.gen_order, self.pmax_on, self.gs_mw, self.load_mw, self.bus_in,
                self.live, self.f_bus, self.t_bus, self.b_pu, self.pf_pu, self.gen_bus,
                self.gen_on, self.adjp, self.adjb)

    def base(self) -> tuple[np.ndarray, ...]:
        """The Woodbury and base-case arrays, in ``Base`` order."""
        return (self.ht, self.xor, self.f0, self.base_label, self.base_p,
                self.base_grounded, self.base_dead)


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
    ends = np.concatenate([model.f_bus[live], model.t_bus[live]])
    adjb = np.concatenate([live, live])[np.argsort(ends, kind="stable")].astype(np.int64)
    adjp = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=nb))]).astype(np.int64)
    on = np.asarray(model.gen_on, dtype=bool)
    pmax_on = np.where(on, np.maximum(np.asarray(model.pmax_mw, dtype=float), 0.0), 0.0)
    nl = int(model.f_bus.size)
    ht = model._ht if model._ht is not None else np.zeros((0, nl))
    plan = CascadePlan(
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
        adjp=adjp, adjb=adjb, base_mva=float(model.base_mva),
        ht=ht, xor=np.asarray(model.xor_label, dtype=np.uint64),
        f0=np.asarray(model.f0_pu, dtype=float), kw=WOODBURY_MAX if ht.shape[0] else 0,
    )
    ws = _work(nb, int(model.f_bus.size), int(lp[-1]))
    on = np.flatnonzero(plan.live)
    ws[13][:on.size] = on
    n_isl = _islands(ws, plan.grid(), on.size)
    served = _balance(ws, n_isl, plan.grid(), plan.base_mva)
    return replace(plan, base_label=ws[1][1].copy(), base_p=ws[0][5].copy(),
                   base_grounded=ws[2][0].copy(), base_dead=ws[2][1].copy(),
                   base_islands=n_isl, base_served_mw=served)


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
    _cascades(nchunk, init_ptr, init_idx, limit_pu, int(max_rounds), plan.grid(),
              plan.base(), plan.base_mva, plan.kw, plan.base_islands, plan.base_served_mw,
              trips, n_trips, rounds, lost, islands, ok)
    return trips, n_trips, rounds, lost, islands, ok


#: the model's arrays, in CascadePlan order: pos, colp, coli, colbr, lp, ref_buses,
#: gen_order, pmax_on, gs_mw, load_mw, bus_in, live, f_bus, t_bus, b_pu, pf_pu, gen_bus,
#: gen_on, adjp, adjb
Grid = tuple[np.ndarray, ...]
#: one thread's scratch: floats (11, nb), ints (12, nb), bools (5, nb), then per branch
#: out, used (peeled), flow (pu), new trips; li, lx (the L pattern)
Work = tuple[np.ndarray, ...]


#: ht, xor, f0, base_label, base_p, base_grounded, base_dead (CascadePlan.base)
Base = tuple[np.ndarray, ...]


@njit(cache=True)
def _work(nb: int, nl: int, nnz: int) -> Work:  # pragma: no cover - compiled
    """Scratch arrays of one thread (see ``Work``)."""
    return (np.zeros((11, nb)), np.zeros((12, nb), dtype=np.int64),
            np.zeros((5, nb), dtype=np.bool_), np.zeros(nl, dtype=np.bool_),
            np.zeros(nl, dtype=np.bool_), np.zeros(nl), np.zeros(nl, dtype=np.int64),
            np.zeros(max(nnz, 1), dtype=np.int64), np.zeros(max(nnz, 1)),
            np.zeros(WOODBURY_MAX, dtype=np.int64), np.zeros((WOODBURY_MAX, WOODBURY_MAX)),
            np.zeros(WOODBURY_MAX), np.zeros(64, dtype=np.uint64), np.zeros(nl, dtype=np.int64))


@njit(parallel=True, cache=True)
def _cascades(nchunk: int, init_ptr: np.ndarray, init_idx: np.ndarray, limit: np.ndarray,
              max_rounds: int, grid: Grid, base: Base, base_mva: float, kw: int,
              n_base: int, served_base: float, trips: np.ndarray, n_trips: np.ndarray,
              rounds: np.ndarray, lost: np.ndarray, islands: np.ndarray,
              ok: np.ndarray) -> None:  # pragma: no cover - compiled
    n_s = init_ptr.size - 1
    nb, nl, nnz = grid[0].size, grid[12].size, grid[4][-1]
    step = (n_s + nchunk - 1) // nchunk
    for c in prange(nchunk):
        ws = _work(nb, nl, nnz)
        for s in range(c * step, min(n_s, (c + 1) * step)):
            _one(s, init_ptr, init_idx, limit, max_rounds, grid, base, base_mva, kw, n_base,
                 served_base, trips, n_trips, rounds, lost, islands, ok, ws)


@njit(cache=True)
def _gf2_insert(basis: np.ndarray, v: np.uint64) -> bool:  # pragma: no cover - compiled
    """Add ``v`` to the GF(2) basis (``basis[b]``: the word whose top bit is b); False if it
    reduces to 0 (the outage set gained an island)."""
    for b in range(63, -1, -1):
        if (v >> np.uint64(b)) & np.uint64(1):
            if basis[b] == 0:
                basis[b] = v
                return True
            v ^= basis[b]
    return False


@njit(cache=True)
def _woodbury(ws: Work, base: Base, k: int) -> bool:  # pragma: no cover - compiled
    """Flows (pu) with the ``k`` branches ``ws[9][:k]`` out, the base islands kept:
    ``f0 + H[:, M] (I - H[M, M])^-1 f0[M]`` (Gaussian elimination, partial pivoting).
    False on a singular system."""
    ht, f0 = base[0], base[2]
    flow, m, a, c = ws[5], ws[9], ws[10], ws[11]
    for i in range(k):
        for j in range(k):
            a[i, j] = (1.0 if i == j else 0.0) - ht[m[j], m[i]]
        c[i] = f0[m[i]]
    for col in range(k):
        piv = col
        for r in range(col + 1, k):
            if abs(a[r, col]) > abs(a[piv, col]):
                piv = r
        if a[piv, col] == 0.0:
            return False
        if piv != col:
            for j in range(k):
                a[col, j], a[piv, j] = a[piv, j], a[col, j]
            c[col], c[piv] = c[piv], c[col]
        for r in range(col + 1, k):
            g = a[r, col] / a[col, col]
            if g != 0.0:
                for j in range(col, k):
                    a[r, j] -= g * a[col, j]
                c[r] -= g * c[col]
    for r in range(k - 1, -1, -1):
        v = c[r]
        for j in range(r + 1, k):
            v -= a[r, j] * c[j]
        c[r] = v / a[r, r]
    nl = f0.size
    for br in range(nl):
        flow[br] = f0[br]
    for j in range(k):
        row = ht[m[j]]
        cj = c[j]
        for br in range(nl):
            flow[br] += cj * row[br]
    return True


@njit(cache=True)
def _find(uf: np.ndarray, i: int) -> int:  # pragma: no cover - compiled
    while uf[i] != i:
        uf[i] = uf[uf[i]]
        i = uf[i]
    return i


@njit(cache=True)
def _islands(ws: Work, grid: Grid, non: int) -> int:  # pragma: no cover - compiled
    """Label every bus with its island (0..n-1 in order of each island's lowest bus) over
    the ``non`` branches in service ``ws[13]``; returns n."""
    f_bus, t_bus = grid[12], grid[13]
    iw, onl = ws[1], ws[13]
    uf, label, root_isl = iw[0], iw[1], iw[2]
    nb = uf.size
    for i in range(nb):
        uf[i] = i
    for q in range(non):
        br = onl[q]
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
def _balance(ws: Work, n_isl: int, grid: Grid,
             base_mva: float) -> float:  # pragma: no cover - compiled
    """The island balancing rule (:meth:`DCModel.balance`, the same sums in the same order)
    on the island labels: bus injections (pu), dark islands, grounded positions (dark
    buses and each energised island's slack); returns the served load, MW."""
    pos, ref_buses, gen_order, pmax_on = grid[0], grid[5], grid[6], grid[7]
    gs_mw, load_mw, bus_in, gen_bus, gen_on = grid[8], grid[9], grid[10], grid[16], grid[17]
    fw, iw, bw = ws[0], ws[1], ws[2]
    cap, need, served, disp, resid, p = fw[0], fw[1], fw[2], fw[3], fw[4], fw[5]
    label, cnt, slack = iw[1], iw[3], iw[4]
    grounded, dead = bw[0], bw[1]
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
def _peel(ws: Work, grid: Grid, non: int) -> None:  # pragma: no cover - compiled
    """Flows of the radial parts of the dirty energised islands by Kirchhoff's current
    law alone: a bus with one branch left (not its island's slack) sends its injection,
    plus what its peeled neighbours sent it, down that branch. Marks those branches used
    and leaves the rest of each bus's injection in ``acc``."""
    pos, f_bus, t_bus, adjp, adjb = grid[0], grid[12], grid[13], grid[18], grid[19]
    fw, iw, bw, out, used, flow = ws[0], ws[1], ws[2], ws[3], ws[4], ws[5]
    p, acc = fw[5], fw[10]
    label, deg, stack = iw[1], iw[9], iw[10]
    grounded, dead, dirty, peeled = bw[0], bw[1], bw[2], bw[4]
    nb = p.size
    for i in range(nb):
        acc[i] = p[i]
        deg[i] = 0
        peeled[i] = False
    onl = ws[13]
    for q in range(non):
        br = onl[q]
        used[br] = False
        isl = label[f_bus[br]]
        if dirty[isl] and not dead[isl]:
            deg[f_bus[br]] += 1
            deg[t_bus[br]] += 1
    top = 0
    for i in range(nb):
        if deg[i] == 1 and not grounded[pos[i]]:
            stack[top] = i
            top += 1
    while top > 0:
        top -= 1
        i = stack[top]
        if deg[i] != 1:
            continue
        for q in range(adjp[i], adjp[i + 1]):
            br = adjb[q]
            if out[br] or used[br]:
                continue
            j = t_bus[br] if f_bus[br] == i else f_bus[br]
            used[br] = True
            flow[br] = acc[i] if f_bus[br] == i else -acc[i]
            acc[j] += acc[i]
            deg[j] -= 1
            if deg[j] == 1 and not grounded[pos[j]]:
                stack[top] = j
                top += 1
            break
        deg[i] = 0
        peeled[i] = True


@njit(cache=True)
def _mesh_flows(ws: Work, grid: Grid, non: int) -> bool:  # pragma: no cover - compiled
    """Flows of the meshed rest of the dirty energised islands: assemble B and the
    injections over the branches not peeled, factorise (up-looking LDL^T, Davis's LDL, on
    the current elimination tree, only the positions left) and solve. False on a zero
    pivot."""
    pos, colp, coli, colbr, lp = grid[0], grid[1], grid[2], grid[3], grid[4]
    f_bus, t_bus, b_pu, pf_pu = grid[12], grid[13], grid[14], grid[15]
    fw, iw, bw, out, used, flow, li, lx = ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[7], ws[8]
    diag, x, y, d, acc = fw[6], fw[7], fw[8], fw[9], fw[10]
    label, parent, flag, lnz, pattern, cols = iw[1], iw[5], iw[6], iw[7], iw[8], iw[11]
    grounded, dead, dirty, act, peeled = bw[0], bw[1], bw[2], bw[3], bw[4]
    n = x.size
    for i in range(n):
        k = pos[i]
        isl = label[i]
        a = dirty[isl] and not dead[isl] and not peeled[i] and not grounded[k]
        act[k] = a
        x[k] = acc[i] if a else 0.0
        diag[k] = 0.0
    onl = ws[13]
    for q in range(non):
        br = onl[q]
        if not used[br]:
            isl = label[f_bus[br]]
            if dirty[isl] and not dead[isl]:
                pf = pf_pu[br]
                a, b = pos[f_bus[br]], pos[t_bus[br]]
                if a != b:
                    x[a] -= pf
                    x[b] += pf
                    diag[a] += b_pu[br]
                    diag[b] += b_pu[br]
    m = 0
    for k in range(n):
        cols[m] = k
        m += act[k]
        if not act[k]:
            x[k] = 0.0
    for c in range(m):  # elimination tree of the current matrix
        k = cols[c]
        parent[k] = -1
        flag[k] = k
        lnz[k] = 0
        for p in range(colp[k], colp[k + 1]):
            i = coli[p]
            if not act[i] or out[colbr[p]]:
                continue
            while flag[i] != k:
                if parent[i] == -1:
                    parent[i] = k
                flag[i] = k
                i = parent[i]
    for c in range(m):
        flag[cols[c]] = -1
    for c in range(m):
        k = cols[c]
        top = n
        flag[k] = k
        for p in range(colp[k], colp[k + 1]):
            i = coli[p]
            br = colbr[p]
            if not act[i] or out[br]:
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
    for c in range(m):  # L z = x
        j = cols[c]
        xj = x[j]
        if xj != 0.0:
            for p in range(lp[j], lp[j] + lnz[j]):
                x[li[p]] -= lx[p] * xj
    for c in range(m):
        x[cols[c]] /= d[cols[c]]
    for c in range(m - 1, -1, -1):  # L^T theta = z
        j = cols[c]
        xj = x[j]
        for p in range(lp[j], lp[j] + lnz[j]):
            xj -= lx[p] * x[li[p]]
        x[j] = xj
    for q in range(non):
        br = onl[q]
        if not used[br]:
            isl = label[f_bus[br]]
            if dirty[isl] and not dead[isl]:
                flow[br] = b_pu[br] * (x[pos[f_bus[br]]] - x[pos[t_bus[br]]]) + pf_pu[br]
    return True


@njit(cache=True)
def _one(s: int, init_ptr: np.ndarray, init_idx: np.ndarray, limit: np.ndarray,
         max_rounds: int, grid: Grid, base: Base, base_mva: float, kw: int, n_base: int,
         served_base: float, trips: np.ndarray, n_trips: np.ndarray, rounds: np.ndarray,
         lost: np.ndarray, islands: np.ndarray, ok: np.ndarray,
         ws: Work) -> None:  # pragma: no cover - compiled
    """One whole cascade (scenario ``s``), written into the output arrays.

    While the outages keep the base islands (the XOR labels stay independent) and number
    at most ``kw``, the flows are Woodbury updates of the base flows. Then, per round,
    islands, balance and the sparse solve; after the first of those rounds only the
    islands holding a branch that just tripped are solved and checked: the others keep
    their flows, which tripped nothing."""
    load_mw, live, f_bus, t_bus = grid[9], grid[11], grid[12], grid[13]
    xor, b_label, b_p, b_grounded, b_dead = base[1], base[3], base[4], base[5], base[6]
    fw, iw, bw, out, flow, new, mlist, basis = ws[0], ws[1], ws[2], ws[3], ws[5], ws[6], \
        ws[9], ws[12]
    label, p_bus = iw[1], fw[5]
    grounded, dead, dirty = bw[0], bw[1], bw[2]
    nl, nb = f_bus.size, label.size
    for br in range(nl):
        out[br] = False
    for i in range(nb):
        label[i] = b_label[i]
        p_bus[i] = b_p[i]
        grounded[i] = b_grounded[i]
    for k in range(n_base):
        dead[k] = b_dead[k]
    for j in range(64):
        basis[j] = 0
    n_isl = n_base
    served_mw = served_base
    plain = kw > 0
    nm = 0
    for q in range(init_ptr[s], init_ptr[s + 1]):
        br = init_idx[q]
        if out[br]:
            continue
        out[br] = True
        if plain and live[br]:
            if nm == kw or not _gf2_insert(basis, xor[br]):
                plain = False
            else:
                mlist[nm] = br
                nm += 1
    onl = ws[13]
    non = 0
    for br in range(nl):
        if live[br] and not out[br]:
            onl[non] = br
            non += 1
    total_load = 0.0
    for i in range(nb):
        total_load += load_mw[i]
    nt = 0
    n_new = 0
    all_dirty = True
    for _ in range(max_rounds + 1):
        if plain:
            if not _woodbury(ws, base, nm):
                ok[s] = False
                return
            n_new = 0
            for q in range(non):
                br = onl[q]
                if abs(flow[br]) > limit[br]:
                    new[n_new] = br
                    n_new += 1
        else:
            cur = _islands(ws, grid, non)
            if cur != n_isl:  # outages only split islands: same count, same partition
                n_isl = cur
                served_mw = _balance(ws, n_isl, grid, base_mva)
            for k in range(n_isl):
                dirty[k] = all_dirty
            for j in range(n_new):
                dirty[label[f_bus[new[j]]]] = True
                dirty[label[t_bus[new[j]]]] = True
            all_dirty = False
            _peel(ws, grid, non)
            if not _mesh_flows(ws, grid, non):
                ok[s] = False
                return
            n_new = 0
            for q in range(non):
                br = onl[q]
                isl = label[f_bus[br]]
                if dirty[isl] and not dead[isl] and abs(flow[br]) > limit[br]:
                    new[n_new] = br
                    n_new += 1
        if n_new == 0:
            break
        for j in range(n_new):
            br = new[j]
            out[br] = True
            trips[s, nt] = br
            nt += 1
            if plain:
                if nm == kw or not _gf2_insert(basis, xor[br]):
                    plain = False
                else:
                    mlist[nm] = br
                    nm += 1
        rounds[s] += 1
        m = 0
        for q in range(non):  # the branches still in service, ascending
            onl[m] = onl[q]
            m += not out[onl[q]]
        non = m
    n_trips[s] = nt
    lost[s] = total_load - served_mw
    islands[s] = n_isl
