"""The compiled DC cascade loop of the fast engine: numba runs whole cascades.

Each scenario runs the simple DC rule (see :mod:`blackout.study.batch`) start to end in
compiled code. Scenarios are split between threads (``prange``) and each thread keeps
``BATCH`` of them in flight; every scenario is computed on its own, so the results do not
depend on the thread count or the batching. Per round of one scenario:

- while its outages keep the base islands (their XOR cycle-space labels stay independent
  over GF(2)) and number at most ``WOODBURY_MAX``, and the model holds all of H: the flows
  are the Woodbury update ``f0 + H[:, M] (I - H[M, M])^-1 f0[M]`` of the base flows;
- otherwise: islands by union-find over the branches still in service; when their number
  changed (outages only split, so the partition changed) the island balancing rule of
  :meth:`DCModel.balance` (the same sums in the same order); then the DC flows of the
  current topology, each energised island grounded at its slack bus and every bus of a
  dark island grounded (it carries nothing). The B matrices of all the batch's scenarios
  in this path are factorised together, LDL^T without pivoting (like the model's SuperLU)
  on the *base* pattern of L in the base fill-reducing order: a removed branch or a
  grounded bus only leaves exact zeros in that pattern, so there is no per-scenario
  symbolic work and the innermost loops run over scenarios;
- every branch in service (and energised) with ``|P| > limit`` trips, ascending.

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
#: scenarios whose sparse solves of a round run together, per thread
BATCH = 16

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
    li: np.ndarray  # row positions of the base pattern of L, by column (ascending)
    rowp: np.ndarray  # row k of L: columns rowc[rowp[k]:rowp[k+1]], entry slots rowo
    rowc: np.ndarray
    rowo: np.ndarray
    acolp: np.ndarray  # strictly lower triangle of B by column: rows arow, branches abr
    arow: np.ndarray
    abr: np.ndarray
    entry: np.ndarray  # each branch's entry in that triangle (-1: none)
    aval0: np.ndarray  # the entries' base values (-b_pu), pu
    diag0: np.ndarray  # base diagonal of B by position, pu
    shifters: np.ndarray  # live branches with a phase shift (pfinj_pu != 0), between buses
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
                self.gen_on, self.li, self.rowp, self.rowc, self.rowo,
                self.acolp, self.arow, self.abr, self.entry, self.aval0, self.diag0,
                self.shifters)

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
    parent, lnz = _base_column_counts(nb, colp, coli)
    lp = np.concatenate([[0], np.cumsum(lnz)]).astype(np.int64)
    li = np.zeros(max(int(lp[-1]), 1), dtype=np.int64)
    rowp = np.zeros(nb + 1, dtype=np.int64)
    rowc = np.zeros(max(int(lp[-1]), 1), dtype=np.int64)
    rowo = np.zeros(max(int(lp[-1]), 1), dtype=np.int64)
    _static_pattern(nb, colp, coli, parent, lp, li, rowp, rowc, rowo)
    low = np.lexsort((hi[order], lo[order]))  # the upper entries transposed, by column
    acolp = np.concatenate([[0], np.cumsum(np.bincount(lo, minlength=nb))]).astype(np.int64)
    arow = hi[order][low].astype(np.int64)
    abr = colbr[low].astype(np.int64)
    nl = int(model.f_bus.size)
    entry = np.full(nl, -1, dtype=np.int64)
    entry[abr] = np.arange(abr.size)
    b_pu = np.asarray(model.b_pu, dtype=float)
    aval0 = -b_pu[abr]
    diag0 = np.zeros(nb)
    np.add.at(diag0, pf_, b_pu[live])
    np.add.at(diag0, pt_, b_pu[live])
    shifters = live[np.asarray(model.pfinj_pu, dtype=float)[live] != 0.0].astype(np.int64)
    gen_on = np.asarray(model.gen_on, dtype=bool)
    pmax_on = np.where(gen_on, np.maximum(np.asarray(model.pmax_mw, dtype=float), 0.0), 0.0)
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
        gen_bus=np.asarray(model.gen_bus, dtype=np.int64), gen_on=gen_on,
        li=li, rowp=rowp, rowc=rowc, rowo=rowo, acolp=acolp,
        arow=arow, abr=abr, entry=entry, aval0=aval0, diag0=diag0, shifters=shifters,
        base_mva=float(model.base_mva),
        ht=ht, xor=np.asarray(model.xor_label, dtype=np.uint64),
        f0=np.asarray(model.f0_pu, dtype=float), kw=WOODBURY_MAX if ht.shape[0] else 0,
    )
    ws = _work(nb, nl, abr.size)
    in_service = np.flatnonzero(plan.live)
    ws[10][:in_service.size] = in_service
    n_isl = _islands(ws, plan.grid(), in_service.size)
    served = _balance(ws, n_isl, plan.grid(), plan.base_mva)
    return replace(plan, base_label=ws[1][1].copy(), base_p=ws[0][5].copy(),
                   base_grounded=ws[2][0].copy(), base_dead=ws[2][1].copy(),
                   base_islands=n_isl, base_served_mw=served)


def _base_column_counts(n: int, colp: np.ndarray, coli: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(elimination tree, off-diagonal nonzeros per column of L) of the base pattern."""
    parent = np.full(n, -1, dtype=np.int64)
    flag = np.full(n, -1, dtype=np.int64)
    lnz = np.zeros(n, dtype=np.int64)
    _symbolic(n, colp, coli, parent, flag, lnz)
    return parent, lnz


@njit(cache=True)
def _static_pattern(n: int, colp: np.ndarray, coli: np.ndarray, parent: np.ndarray,
                    lp: np.ndarray, li: np.ndarray, rowp: np.ndarray, rowc: np.ndarray,
                    rowo: np.ndarray) -> None:  # pragma: no cover - compiled
    """The base pattern of L: rows of each column (ascending) and, for each row k, the
    columns it has entries in and those entries' slots (the row subtrees of the etree)."""
    flag = np.full(n, -1, dtype=np.int64)
    cnt = np.zeros(n, dtype=np.int64)
    r = 0
    for k in range(n):
        rowp[k] = r
        flag[k] = k
        for p in range(colp[k], colp[k + 1]):
            i = coli[p]
            while flag[i] != k:
                flag[i] = k
                slot = lp[i] + cnt[i]
                li[slot] = k
                cnt[i] += 1
                rowc[r] = i
                rowo[r] = slot
                r += 1
                i = parent[i]
    rowp[n] = r


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
              BATCH, trips, n_trips, rounds, lost, islands, ok)
    return trips, n_trips, rounds, lost, islands, ok


#: the model's arrays (CascadePlan.grid): 0 pos, 1 colp, 2 coli, 3 colbr, 4 lp,
#: 5 ref_buses, 6 gen_order, 7 pmax_on, 8 gs_mw, 9 load_mw, 10 bus_in, 11 live, 12 f_bus,
#: 13 t_bus, 14 b_pu, 15 pf_pu, 16 gen_bus, 17 gen_on, 18 li, 19 rowp, 20 rowc, 21 rowo,
#: 22 acolp, 23 arow, 24 abr, 25 entry, 26 aval0, 27 diag0, 28 shifters
Grid = tuple[np.ndarray, ...]
#: one scenario slot: 0 floats (8, nb): cap, need, served, disp, resid per island and p
#: (bus injections, pu); 1 ints (5, nb): union-find, label (island per bus), root island,
#: generators and slack per island; 2 bools (2, nb): grounded (by position), dead (per
#: island); 3 out, 4 flow (pu), 5 new trips (per branch); 6-8 Woodbury outage list,
#: matrix, vector; 9 GF(2) basis; 10 branches in service (ascending); 11 ints: scenario
#: (-1: free), round, islands, outages in the Woodbury list, Woodbury still valid, trips,
#: new trips, branches in service; 12 floats: served MW, total load MW; 13 B's strictly
#: lower entries (0 for branches out), pu; floats rows 6-7: B's diagonal by position and
#: a right-hand-side scratch
Work = tuple[np.ndarray, ...]


#: ht, xor, f0, base_label, base_p, base_grounded, base_dead (CascadePlan.base)
Base = tuple[np.ndarray, ...]


@njit(cache=True)
def _work(nb: int, nl: int, n_a: int) -> Work:  # pragma: no cover - compiled
    """Scratch and state arrays of one scenario slot (see ``Work``)."""
    return (np.zeros((8, nb)), np.zeros((5, nb), dtype=np.int64),
            np.zeros((2, nb), dtype=np.bool_), np.zeros(nl, dtype=np.bool_), np.zeros(nl),
            np.zeros(nl, dtype=np.int64), np.zeros(WOODBURY_MAX, dtype=np.int64),
            np.zeros((WOODBURY_MAX, WOODBURY_MAX)), np.zeros(WOODBURY_MAX),
            np.zeros(64, dtype=np.uint64), np.zeros(nl, dtype=np.int64),
            np.zeros(8, dtype=np.int64), np.zeros(2), np.zeros(max(n_a, 1)))


@njit(parallel=True, cache=True)
def _cascades(nchunk: int, init_ptr: np.ndarray, init_idx: np.ndarray, limit: np.ndarray,
              max_rounds: int, grid: Grid, base: Base, base_mva: float, kw: int,
              n_base: int, served_base: float, batch: int, trips: np.ndarray,
              n_trips: np.ndarray, rounds: np.ndarray, lost: np.ndarray,
              islands: np.ndarray, ok: np.ndarray) -> None:  # pragma: no cover - compiled
    """Every scenario's cascade; each thread's scenarios run ``batch`` at a time, their
    sparse solves of a round together (one factorisation loop, the scenarios innermost)."""
    n_s = init_ptr.size - 1
    nb, nl, nnz, n_a = grid[0].size, grid[12].size, grid[18].size, grid[24].size
    step = (n_s + nchunk - 1) // nchunk
    for c in prange(nchunk):
        slots = [_work(nb, nl, n_a) for _ in range(batch)]
        mats = (np.zeros((nb, batch)), np.zeros((max(n_a, 1), batch)), np.zeros((nb, batch)),
                np.zeros((nnz, batch)), np.zeros((nb, batch)), np.zeros((nb, batch)),
                np.zeros(batch), np.zeros(batch))
        gmap = np.zeros(batch, dtype=np.int64)
        nxt, end = c * step, min(n_s, (c + 1) * step)
        busy = 0
        for j in range(batch):
            slots[j][11][0] = -1
        while True:
            for j in range(batch):  # fill the free slots
                if slots[j][11][0] < 0 and nxt < end:
                    _start(slots[j], nxt, init_ptr, init_idx, grid, base, kw, n_base,
                           served_base)
                    nxt += 1
                    busy += 1
            if busy == 0:
                break
            n_g = 0
            for j in range(batch):
                ws = slots[j]
                st = ws[11]
                if st[0] < 0:
                    continue
                if st[4]:  # Woodbury, the whole round here
                    if not _woodbury(ws, base, st[3]):
                        ok[st[0]] = False
                        st[0] = -1
                        busy -= 1
                        continue
                    _check(ws, grid, limit, False)
                    if _advance(ws, grid, base, kw, max_rounds, trips, n_trips, rounds,
                                lost, islands):
                        busy -= 1
                else:
                    _prepare(ws, grid, base_mva)
                    _assemble(ws, grid, n_g, mats)
                    gmap[n_g] = j
                    n_g += 1
            if n_g:
                _batch_solve(grid, n_g, mats)
            for g in range(n_g):
                ws = slots[gmap[g]]
                st = ws[11]
                if mats[7][g] != 0.0:  # zero pivot
                    ok[st[0]] = False
                    st[0] = -1
                    busy -= 1
                    continue
                _flows(ws, grid, g, mats)
                _check(ws, grid, limit, True)
                if _advance(ws, grid, base, kw, max_rounds, trips, n_trips, rounds, lost,
                            islands):
                    busy -= 1


@njit(cache=True)
def _start(ws: Work, s: int, init_ptr: np.ndarray, init_idx: np.ndarray, grid: Grid,
           base: Base, kw: int, n_base: int,
           served_base: float) -> None:  # pragma: no cover - compiled
    """Slot ``ws`` takes scenario ``s``: its initiating outages on the base case."""
    load_mw, live = grid[9], grid[11]
    xor, b_label, b_p, b_grounded, b_dead = base[1], base[3], base[4], base[5], base[6]
    fw, iw, bw, out, mlist, basis, onl, st, sf = ws[0], ws[1], ws[2], ws[3], ws[6], ws[9], \
        ws[10], ws[11], ws[12]
    label, p_bus = iw[1], fw[5]
    grounded, dead = bw[0], bw[1]
    nl, nb = out.size, label.size
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
    non = 0
    for br in range(nl):
        if live[br] and not out[br]:
            onl[non] = br
            non += 1
    diag, aval = fw[6], ws[13]
    for k in range(nb):
        diag[k] = grid[27][k]
    for e in range(grid[26].size):
        aval[e] = grid[26][e]
    for q in range(init_ptr[s], init_ptr[s + 1]):
        _drop(ws, grid, init_idx[q])
    total = 0.0
    for i in range(nb):
        total += load_mw[i]
    st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7] = s, 0, n_base, nm, plain, 0, 0, non
    sf[0], sf[1] = served_base, total


@njit(cache=True)
def _advance(ws: Work, grid: Grid, base: Base, kw: int, max_rounds: int, trips: np.ndarray,
             n_trips: np.ndarray, rounds: np.ndarray, lost: np.ndarray,
             islands: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Trip this round's overloads (``ws[5][:st[6]]``), or end the scenario (True) when
    there are none or the rounds ran out, writing its outputs."""
    xor = base[1]
    out, new, mlist, basis, onl, st, sf = ws[3], ws[5], ws[6], ws[9], ws[10], ws[11], ws[12]
    s, n_new = st[0], st[6]
    if n_new > 0:
        nt, nm = st[5], st[3]
        for j in range(n_new):
            br = new[j]
            out[br] = True
            _drop(ws, grid, br)
            trips[s, nt] = br
            nt += 1
            if st[4]:
                if nm == kw or not _gf2_insert(basis, xor[br]):
                    st[4] = False
                else:
                    mlist[nm] = br
                    nm += 1
        st[5], st[3] = nt, nm
        rounds[s] += 1
        m = 0
        for q in range(st[7]):  # the branches still in service, ascending
            onl[m] = onl[q]
            m += not out[onl[q]]
        st[7] = m
        st[1] += 1
        if st[1] <= max_rounds:
            return False
    n_trips[s] = st[5]
    lost[s] = sf[1] - sf[0]
    islands[s] = st[2]
    st[0] = -1
    return True


@njit(cache=True)
def _drop(ws: Work, grid: Grid, br: int) -> None:  # pragma: no cover - compiled
    """Take branch ``br`` out of the slot's B (diagonal and lower entry), once."""
    e = grid[25][br]
    aval = ws[13]
    if e >= 0 and aval[e] != 0.0:
        a, b = grid[0][grid[12][br]], grid[0][grid[13][br]]
        diag = ws[0][6]
        diag[a] -= grid[14][br]
        diag[b] -= grid[14][br]
        aval[e] = 0.0


@njit(cache=True)
def _check(ws: Work, grid: Grid, limit: np.ndarray,
           energised_only: bool) -> None:  # pragma: no cover - compiled
    """This round's overloads, ascending, into ``ws[5][:st[6]]``: every branch in service
    with ``|flow| > limit`` (``energised_only``: not in a dark island)."""
    f_bus = grid[12]
    label, dead, flow, new, onl, st = ws[1][1], ws[2][1], ws[4], ws[5], ws[10], ws[11]
    n_new = 0
    for q in range(st[7]):
        br = onl[q]
        if energised_only and dead[label[f_bus[br]]]:
            continue
        if abs(flow[br]) > limit[br]:
            new[n_new] = br
            n_new += 1
    st[6] = n_new


@njit(cache=True)
def _prepare(ws: Work, grid: Grid, base_mva: float) -> None:  # pragma: no cover - compiled
    """Islands of the current topology; re-balance when they changed."""
    st, sf = ws[11], ws[12]
    cur = _islands(ws, grid, st[7])
    if cur != st[2]:  # outages only split islands: same count, same partition
        st[2] = cur
        sf[0] = _balance(ws, cur, grid, base_mva)


@njit(cache=True)
def _assemble(ws: Work, grid: Grid, g: int, mats: tuple[np.ndarray, ...]
              ) -> None:  # pragma: no cover - compiled
    """Column ``g`` of the batch: the current B (diagonal, strictly lower entries; each
    grounded position a unit row) and right-hand side (injections less phase shifts)."""
    pos, f_bus, t_bus, pf_pu = grid[0], grid[12], grid[13], grid[15]
    acolp, arow, shifters = grid[22], grid[23], grid[28]
    ad, ao, x = mats[0], mats[1], mats[2]
    p_bus, diag, xs = ws[0][5], ws[0][6], ws[0][7]
    grounded, out, aval = ws[2][0], ws[3], ws[13]
    n = pos.size
    for i in range(n):
        xs[pos[i]] = p_bus[i]
    for q in range(shifters.size):
        br = shifters[q]
        if not out[br]:
            xs[pos[f_bus[br]]] -= pf_pu[br]
            xs[pos[t_bus[br]]] += pf_pu[br]
    for k in range(n):
        gk = grounded[k]
        x[k, g] = 0.0 if gk else xs[k]
        ad[k, g] = 1.0 if gk else diag[k]
    for j in range(n):
        if grounded[j]:
            for e in range(acolp[j], acolp[j + 1]):
                ao[e, g] = 0.0
        else:
            for e in range(acolp[j], acolp[j + 1]):
                ao[e, g] = 0.0 if grounded[arow[e]] else aval[e]


@njit(cache=True, fastmath=False)
def _batch_solve(grid: Grid, m: int, mats: tuple[np.ndarray, ...]
                 ) -> None:  # pragma: no cover - compiled
    """x <- B^-1 x for the first ``m`` columns of the batch: left-looking LDL^T on the
    base pattern of L (entries the current topology lacks stay exact zeros), no
    pivoting; ``mats[7][g]`` nonzero where column ``g`` met a zero pivot."""
    lp, li, rowp, rowc, rowo, acolp, arow = grid[4], grid[18], grid[19], grid[20], grid[21], \
        grid[22], grid[23]
    ad, ao, x, lx, d, w, t, bad = mats[0], mats[1], mats[2], mats[3], mats[4], mats[5], \
        mats[6], mats[7]
    n = ad.shape[0]
    for g in range(m):
        bad[g] = 0.0
    for j in range(n):
        for e in range(acolp[j], acolp[j + 1]):
            i = arow[e]
            for g in range(m):
                w[i, g] += ao[e, g]
        for g in range(m):
            d[j, g] = ad[j, g]
        for r in range(rowp[j], rowp[j + 1]):
            k = rowc[r]
            sl = rowo[r]
            for g in range(m):
                t[g] = lx[sl, g] * d[k, g]
                d[j, g] -= t[g] * lx[sl, g]
            for p in range(sl + 1, lp[k + 1]):
                i = li[p]
                for g in range(m):
                    w[i, g] -= lx[p, g] * t[g]
        for g in range(m):
            if d[j, g] == 0.0:
                bad[g] = 1.0
                d[j, g] = 1.0
        for p in range(lp[j], lp[j + 1]):
            i = li[p]
            for g in range(m):
                lx[p, g] = w[i, g] / d[j, g]
                w[i, g] = 0.0
    for j in range(n):  # L z = x
        for p in range(lp[j], lp[j + 1]):
            i = li[p]
            for g in range(m):
                x[i, g] -= lx[p, g] * x[j, g]
    for j in range(n):
        for g in range(m):
            x[j, g] /= d[j, g]
    for j in range(n - 1, -1, -1):  # L^T theta = z
        for p in range(lp[j], lp[j + 1]):
            i = li[p]
            for g in range(m):
                x[j, g] -= lx[p, g] * x[i, g]


@njit(cache=True)
def _flows(ws: Work, grid: Grid, g: int, mats: tuple[np.ndarray, ...]
           ) -> None:  # pragma: no cover - compiled
    """Branch flows (pu) of the branches in service from the angles in batch column g."""
    pos, f_bus, t_bus, b_pu, pf_pu = grid[0], grid[12], grid[13], grid[14], grid[15]
    x = mats[2]
    flow, onl, st = ws[4], ws[10], ws[11]
    for q in range(st[7]):
        br = onl[q]
        flow[br] = b_pu[br] * (x[pos[f_bus[br]], g] - x[pos[t_bus[br]], g]) + pf_pu[br]


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
    """Flows (pu) with the ``k`` branches ``ws[6][:k]`` out, the base islands kept:
    ``f0 + H[:, M] (I - H[M, M])^-1 f0[M]`` (Gaussian elimination, partial pivoting).
    False on a singular system."""
    ht, f0 = base[0], base[2]
    flow, m, a, c = ws[4], ws[6], ws[7], ws[8]
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
    the ``non`` branches in service ``ws[10]``; returns n."""
    f_bus, t_bus = grid[12], grid[13]
    iw, onl = ws[1], ws[10]
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


