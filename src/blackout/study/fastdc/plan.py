"""Per-model arrays of the compiled cascade loop: built once per :class:`DCModel`.

The base pattern of L (elimination tree and row structure of the base B in the base
LU's column order), the lower triangle of B by column, the generator and slack orders and
the intact, balanced base case (islands, injections, served load) that every scenario
starts from. :mod:`blackout.study.fastdc._compiled.loop` runs the cascades on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from blackout.flow.balance import participation_weights
from blackout.study.fastdc._compiled.arrays import BaseArrays, CompiledGrid
from blackout.study.fastdc._compiled.islands import (
    WOODBURY_MAX,
    balance_slot,
    find_islands,
    new_work,
)
from blackout.study.fastdc._compiled.linalg import batch_solve
from blackout.study.fastdc._compiled.split import base_factors
from blackout.study.fastdc.model import DCModel
from blackout.study.jit import njit

__all__ = ["CascadePlan", "plan_of"]

#: islands split inside the Woodbury path only on grids of at least this many buses: on
#: smaller ones the batched sparse round is cheaper than the per-scenario re-balance and
#: base-factor solve (benchmarks/bench_split.py, one thread, random N-2 sets, 2026-12-03:
#: with it case118 -44 % and case300 -18 % at 1.3 x ratings, case1354pegase +54 % and
#: case2869pegase +35 % at 2.0 x; rerun after the sparse path's forest pass the same day:
#: -49 %, -24 %, +28 %, +12 %)
SPLIT_MIN_BUSES = 1000


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
    adjp: np.ndarray  # live branches at each bus: adjb[adjp[i]:adjp[i+1]]
    adjb: np.ndarray
    inert: np.ndarray  # bus without load, in-service generation or shunt conductance
    # a spanning forest of the live branches, breadth first: bus forest_v[q] hangs from
    # forest_p[q] (met earlier) by branch forest_e[q]; chords: the live branches off it
    forest_v: np.ndarray
    forest_p: np.ndarray
    forest_e: np.ndarray
    chords: np.ndarray
    gen_pc: np.ndarray  # case dispatch inside [gen_lo, gen_hi], MW
    gen_lo: np.ndarray  # pmin_mw
    gen_hi: np.ndarray  # max(pmax_mw, pmin_mw)
    w_up: np.ndarray  # participation weight to go up (0 for units out of service)
    w_dn: np.ndarray  # and to go down
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
    # LDL^T of the base B (base pattern, grounded positions unit rows): L values, D; empty
    # when it meets a zero pivot or the grid is small (islands then leave the Woodbury path)
    base_lx: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base_d: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def grid(self) -> CompiledGrid:
        """The arrays the compiled functions take."""
        return CompiledGrid(self.pos, self.colp, self.coli, self.colbr, self.lp, self.ref_buses,
                self.gen_order, self.pmax_on, self.gs_mw, self.load_mw, self.bus_in,
                self.live, self.f_bus, self.t_bus, self.b_pu, self.pf_pu, self.gen_bus,
                self.gen_on, self.li, self.rowp, self.rowc, self.rowo,
                self.acolp, self.arow, self.abr, self.entry, self.aval0, self.diag0,
                self.shifters, self.adjp, self.adjb, self.inert, self.forest_v,
                self.forest_p, self.forest_e, self.chords, self.gen_pc, self.gen_lo,
                self.gen_hi, self.w_up, self.w_dn)

    def base(self) -> BaseArrays:
        """The Woodbury and base-case arrays."""
        return BaseArrays(self.ht, self.xor, self.f0, self.base_label, self.base_p,
                self.base_grounded, self.base_dead, self.base_lx, self.base_d)


def plan_of(model: DCModel) -> CascadePlan:
    """The :class:`CascadePlan` of a :class:`~blackout.study.fastdc.model.DCModel`, built on
    first use and kept on the model (``model.cascade_plan``)."""
    plan = model.cascade_plan
    if not isinstance(plan, CascadePlan):
        plan = _build_plan(model)
        model.cascade_plan = plan
    return plan


def _build_plan(model: DCModel) -> CascadePlan:
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
    ht = model.h_transposed if model.h_transposed is not None else np.zeros((0, nl))
    ends = np.concatenate([model.f_bus[live], model.t_bus[live]])
    adjb = np.concatenate([live, live])[np.argsort(ends, kind="stable")].astype(np.int64)
    adjp = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=nb))]).astype(np.int64)
    forest_v, forest_p, forest_e, chords = _spanning_forest(nb, adjp, adjb, model.f_bus,
                                                            model.t_bus, live)
    gen_lo = np.asarray(model.pmin_mw, dtype=float)
    gen_hi = np.maximum(np.asarray(model.pmax_mw, dtype=float), gen_lo)
    gen_pc = np.clip(np.asarray(model.gen_p_case_mw, dtype=float), gen_lo, gen_hi)
    # the rule's weights in each direction (balance.participation_weights, the same call)
    w_up = np.where(gen_on, participation_weights(model.rule, gen_pc, gen_lo, gen_hi,
                                                  model.droop_pu, up=True), 0.0)
    w_dn = np.where(gen_on, participation_weights(model.rule, gen_pc, gen_lo, gen_hi,
                                                  model.droop_pu, up=False), 0.0)
    has_gen = np.zeros(nb, dtype=bool)
    has_gen[np.asarray(model.gen_bus)[np.asarray(model.gen_on, dtype=bool)]] = True
    inert = ((np.asarray(model.load_bus_mw) == 0) & (np.asarray(model.gs_mw) == 0)
             & ~has_gen)
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
        adjp=adjp, adjb=adjb, inert=inert, forest_v=forest_v, forest_p=forest_p,
        forest_e=forest_e, chords=chords, gen_pc=gen_pc, gen_lo=gen_lo, gen_hi=gen_hi,
        w_up=w_up, w_dn=w_dn,
        base_mva=float(model.base_mva),
        ht=ht, xor=np.asarray(model.xor_label, dtype=np.uint64),
        f0=np.asarray(model.f0_pu, dtype=float), kw=WOODBURY_MAX if ht.shape[0] else 0,
    )
    ws = new_work(nb, nl, abr.size, int(np.asarray(model.gen_bus).size))
    n_isl = find_islands(ws, plan.grid())
    served = balance_slot(ws, n_isl, plan.grid(), plan.base_mva)
    if nb >= SPLIT_MIN_BUSES:
        base_lx, base_d = base_factors(plan.grid(), ws.flags[0].copy(), batch_solve)
    else:
        base_lx, base_d = np.zeros(0), np.zeros(0)
    return replace(plan, base_label=ws.ints[1].copy(), base_p=ws.floats[5].copy(),
                   base_grounded=ws.flags[0].copy(), base_dead=ws.flags[1].copy(),
                   base_islands=n_isl, base_served_mw=served, base_lx=base_lx, base_d=base_d)


def _spanning_forest(nb: int, adjp: np.ndarray, adjb: np.ndarray, f_bus: np.ndarray,
                     t_bus: np.ndarray, live: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A breadth-first spanning forest of the ``live`` branches (no self-loops; adjacency
    ``adjb[adjp[i]:adjp[i+1]]``): (bus, parent bus, branch to it) of every non-root bus in
    visiting order, and the live branches not in the forest (ascending)."""
    v = np.zeros(nb, dtype=np.int64)
    par = np.zeros(nb, dtype=np.int64)
    edge = np.zeros(nb, dtype=np.int64)
    in_tree = np.zeros(f_bus.size, dtype=np.bool_)
    m = _bfs_forest(nb, adjp, adjb, np.asarray(f_bus, dtype=np.int64),
                    np.asarray(t_bus, dtype=np.int64), v, par, edge, in_tree)
    chords = np.asarray(live, dtype=np.int64)
    return v[:m].copy(), par[:m].copy(), edge[:m].copy(), chords[~in_tree[chords]].copy()


@njit(cache=True)
def _bfs_forest(nb: int, adjp: np.ndarray, adjb: np.ndarray, f_bus: np.ndarray,
                t_bus: np.ndarray, v: np.ndarray, par: np.ndarray, edge: np.ndarray,
                in_tree: np.ndarray) -> int:  # pragma: no cover - compiled
    seen = np.zeros(nb, dtype=np.bool_)
    queue = np.zeros(nb, dtype=np.int64)
    m = 0
    for r in range(nb):
        if seen[r]:
            continue
        seen[r] = True
        queue[0] = r
        h, t = 0, 1
        while h < t:
            i = queue[h]
            h += 1
            for e in range(adjp[i], adjp[i + 1]):
                br = adjb[e]
                j = f_bus[br] + t_bus[br] - i
                if not seen[j]:
                    seen[j] = True
                    queue[t] = j
                    t += 1
                    v[m], par[m], edge[m] = j, i, br
                    in_tree[br] = True
                    m += 1
    return m


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
