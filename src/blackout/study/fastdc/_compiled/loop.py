"""The compiled DC cascade loop of the fast engine: numba runs whole cascades.

Each scenario runs the simple DC rule (see :mod:`blackout.study.fastdc.engine`) start to end in
compiled code. Scenarios are split between threads (``prange``) and each thread keeps
``SLOTS`` of them in flight; every scenario is computed on its own, so the results do not
depend on the thread count or the batching. Per round of one scenario:

- while at most ``WOODBURY_MAX`` of its outages have independent XOR cycle-space labels
  (over GF(2)) and the model holds all of H: the flows are the Woodbury update
  ``F + H[:, M] (I - H[M, M])^-1 F[M]`` over those outages ``M``, where ``F`` is the base
  flows ``f0`` until an island splits; an outage whose label depends on the others closes
  a cut, and :mod:`blackout.study.fastdc._compiled.split` finds the smaller side, re-balances the
  islands and solves ``F`` for the new injections on the base factors (why the other
  outages can then be left out of ``M``: see there);
- otherwise (:mod:`blackout.study.fastdc._compiled.woodbury` has the path above): islands from
  the same search, trip by trip, in a round with at most ``SEARCH_TRIPS`` trips (half
  the grid's buses searched at most), else by a pass over a spanning forest of the base
  case and union-find over the chords still in service; when they changed (outages only
  split, so the partition changed) the island balancing rule of :meth:`DCModel.balance`
  (the same sums in the same order); then the DC flows of the current topology, each
  energised island grounded at its slack bus and every bus of a dark island grounded (it
  carries nothing). The B matrices of all the batch's scenarios in this path are
  factorised together, LDL^T without pivoting (like the model's SuperLU)
  on the *base* pattern of L in the base fill-reducing order: a removed branch or a
  grounded bus only leaves exact zeros in that pattern, so there is no per-scenario
  symbolic work and the innermost loops run over scenarios. Scenarios on this path wait
  until ``BATCH`` of them can run the round together (or nothing else is left to run);
- every branch in service (and energised) with ``|P| > limit`` trips, ascending.

A zero pivot (possible only with negative susceptances) flags the scenario; the caller
runs it again on the numpy path.
"""

from __future__ import annotations

import numpy as np

from blackout.study.fastdc._compiled.arrays import (
    BaseArrays,
    BatchArrays,
    CompiledGrid,
    LoopSettings,
    Outputs,
    Workspace,
)
from blackout.study.fastdc._compiled.islands import (
    balance_slot,
    find_islands,
    new_work,
)
from blackout.study.fastdc._compiled.linalg import batch_solve
from blackout.study.fastdc._compiled.split import add_splits, cut_of, note_split
from blackout.study.fastdc._compiled.woodbury import enter_woodbury, woodbury_round
from blackout.study.fastdc.plan import CascadePlan, plan_of
from blackout.study.jit import get_num_threads, njit, prange

__all__ = ["CascadePlan", "plan_of", "run_block"]

#: scenarios whose sparse solves of a round run together, per thread
BATCH = 16
#: scenarios in flight per thread (at least ``BATCH``, so that waiting ones can always
#: fill a batch): those on the Woodbury path run a round each pass, those past it wait
#: until ``BATCH`` of them can run their sparse round together
SLOTS = 32
#: past the Woodbury path, a round's trips are searched for the islands they split when
#: there are at most this many (and the searches stop after half the grid's buses);
#: otherwise union-find over the whole grid
SEARCH_TRIPS = 16


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
    _cascades(nchunk, init_ptr, init_idx, limit_pu, plan.grid(), plan.base(),
              loop_settings(plan, max_rounds), Outputs(trips, n_trips, rounds, lost, islands, ok))
    return trips, n_trips, rounds, lost, islands, ok


def loop_settings(plan: CascadePlan, max_rounds: int) -> LoopSettings:
    """The loop's scalars for ``plan``: this module's ``BATCH``, ``SLOTS`` and
    ``SEARCH_TRIPS`` (no searches when the plan has no base factors)."""
    return LoopSettings(max_rounds=int(max_rounds), base_mva=float(plan.base_mva), kw=plan.kw,
                        search=SEARCH_TRIPS if plan.base_d.size else 0,
                        n_base=plan.base_islands, served_base=float(plan.base_served_mw),
                        batch=BATCH, n_slot=max(SLOTS, BATCH))


@njit(parallel=True, cache=True)
def _cascades(nchunk: int, init_ptr: np.ndarray, init_idx: np.ndarray, limit: np.ndarray,
              grid: CompiledGrid, base: BaseArrays, cfg: LoopSettings,
              outs: Outputs) -> None:  # pragma: no cover - compiled
    """Every scenario's cascade; each thread keeps ``cfg.n_slot`` scenarios in flight: a
    pass runs one Woodbury round of each scenario on that path, and one sparse round of up
    to ``cfg.batch`` of the others together (one factorisation loop, the scenarios
    innermost) once ``cfg.batch`` of them wait or nothing else is left to run."""
    batch, n_slot, base_mva, ok = cfg.batch, cfg.n_slot, cfg.base_mva, outs.ok
    n_s = init_ptr.size - 1
    nb, nl, nnz, n_a = grid.pos.size, grid.f_bus.size, grid.li.size, grid.abr.size
    step = (n_s + nchunk - 1) // nchunk
    for c in prange(nchunk):
        slots = [new_work(nb, nl, n_a, grid.gen_bus.size) for _ in range(n_slot)]
        n_lo = max(n_a, 1)
        mats = BatchArrays(np.zeros((nb, batch)), np.zeros((n_lo, batch)), np.zeros((nb, batch)),
                           np.zeros((nnz, batch)), np.zeros((nb, batch)), np.zeros((nb, batch)),
                           np.zeros(batch), np.zeros(batch), np.zeros((batch, nb)),
                           np.zeros((batch, nb)), np.zeros((batch, n_lo)))
        gmap = np.zeros(batch, dtype=np.int64)
        # each slot's path: -1 free, 1 Woodbury, 0 sparse (kept here: taking a slot's tuple
        # out of the list touches every one of its arrays)
        mode = np.full(n_slot, -1, dtype=np.int64)
        nxt, end = c * step, min(n_s, (c + 1) * step)
        busy = 0
        while True:
            for j in range(n_slot):  # fill the free slots
                if mode[j] < 0 and nxt < end:
                    ws = slots[j]
                    _start(ws, nxt, init_ptr, init_idx, grid, base, cfg)
                    mode[j] = ws.state[4]
                    nxt += 1
                    busy += 1
            if busy == 0:
                break
            for j in range(n_slot):
                if mode[j] == 1:  # Woodbury: the whole round here
                    ws = slots[j]
                    st = ws.state
                    if not woodbury_round(ws, grid, base, base_mva, limit):
                        ok[st[0]] = False
                        st[0] = -1
                        busy -= 1
                    elif _advance(ws, grid, base, cfg, outs):
                        busy -= 1
                    mode[j] = -1 if st[0] < 0 else st[4]
            n_wait, n_wood = 0, 0
            for j in range(n_slot):
                n_wait += mode[j] == 0
                n_wood += mode[j] == 1
            n_g = 0
            if n_wait >= batch or (n_wait > 0 and n_wood == 0 and nxt >= end):
                for j in range(n_slot):
                    if mode[j] == 0 and n_g < batch:
                        ws = slots[j]
                        _prepare(ws, grid, base_mva)
                        _assemble(ws, grid, n_g, mats)
                        gmap[n_g] = j
                        n_g += 1
            if n_g:
                _interleave(mats, n_g)
                batch_solve(grid, n_g, mats)
                _transpose(mats.x, mats.x_t, n_g)
            for g in range(n_g):
                ws = slots[gmap[g]]
                st = ws.state
                if mats.zero_pivot[g] != 0.0:  # zero pivot
                    ok[st[0]] = False
                    st[0] = -1
                    busy -= 1
                    mode[gmap[g]] = -1
                    continue
                _flows(ws, grid, g, mats, limit)
                if _advance(ws, grid, base, cfg, outs):
                    busy -= 1
                if st[0] < 0:
                    mode[gmap[g]] = -1


@njit(cache=True)
def _start(ws: Workspace, s: int, init_ptr: np.ndarray, init_idx: np.ndarray,
           grid: CompiledGrid, base: BaseArrays,
           cfg: LoopSettings) -> None:  # pragma: no cover - compiled
    """Slot ``ws`` takes scenario ``s``: its initiating outages on the base case."""
    kw, n_base, served_base = cfg.kw, cfg.n_base, cfg.served_base
    load_mw, live = grid.load_mw, grid.live
    b_label, b_p, b_grounded, b_dead = base.label, base.p, base.grounded, base.dead
    fw, iw, bw, out, basis, onl, st, sf = ws.floats, ws.ints, ws.flags, ws.out, ws.basis, ws.on, \
        ws.state, ws.sums
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
    st[8], st[9], st[10], st[11] = 0, 0, 0, 0
    for q in range(init_ptr[s], init_ptr[s + 1]):
        br = init_idx[q]
        if out[br]:
            continue
        out[br] = True
        if plain and live[br]:
            nm, plain = enter_woodbury(ws, grid, base, br, nm, kw, n_base)
    non = 0
    for br in range(nl):
        if live[br] and not out[br]:
            onl[non] = br
            non += 1
    diag, aval = fw[6], ws.lower
    for k in range(nb):
        diag[k] = grid.diag0[k]
    for e in range(grid.aval0.size):
        aval[e] = grid.aval0[e]
    for q in range(init_ptr[s], init_ptr[s + 1]):
        _drop(ws, grid, init_idx[q])
    total = 0.0
    for i in range(nb):
        total += load_mw[i]
    st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7] = s, 0, n_base, nm, plain, 0, 0, non
    if not plain:  # left the Woodbury path: outages after it were not searched
        st[10] = 1
    sf[0], sf[1] = served_base, total


@njit(cache=True)
def _advance(ws: Workspace, grid: CompiledGrid, base: BaseArrays, cfg: LoopSettings,
             outs: Outputs) -> bool:  # pragma: no cover - compiled
    """Trip this round's overloads (``ws.new[:st[6]]``), or end the scenario (True) when
    there are none or the rounds ran out, writing its outputs."""
    kw, search, max_rounds = cfg.kw, cfg.search, cfg.max_rounds
    trips, n_trips, rounds, lost, islands = outs.trips, outs.n_trips, outs.rounds, \
        outs.lost, outs.islands
    out, new, onl, st, sf = ws.out, ws.new, ws.on, ws.state, ws.sums
    s, n_new = st[0], st[6]
    if n_new > 0:
        nt, nm = st[5], st[3]
        left = grid.pos.size // 2
        for j in range(n_new):
            br = new[j]
            out[br] = True
            _drop(ws, grid, br)
            trips[s, nt] = br
            nt += 1
            if st[4]:
                nm, still = enter_woodbury(ws, grid, base, br, nm, kw, st[2])
                st[4] = still
            elif st[10] == 0:  # islands by the searches, while few trips and within budget
                if n_new > search:
                    st[10] = 1
                else:
                    res, n = cut_of(ws, grid, br, st[2] + st[9], left)
                    left -= n
                    if res > 0:
                        note_split(ws, res, base.f0)
                    elif res < 0:
                        st[10] = 1
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
def _drop(ws: Workspace, grid: CompiledGrid, br: int) -> None:  # pragma: no cover - compiled
    """Take branch ``br`` out of the slot's B (diagonal and lower entry), once."""
    e = grid.entry[br]
    aval = ws.lower
    if e >= 0 and aval[e] != 0.0:
        a, b = grid.pos[grid.f_bus[br]], grid.pos[grid.t_bus[br]]
        diag = ws.floats[6]
        diag[a] -= grid.b_pu[br]
        diag[b] -= grid.b_pu[br]
        aval[e] = 0.0


@njit(cache=True)
def _prepare(ws: Workspace, grid: CompiledGrid,
             base_mva: float) -> None:  # pragma: no cover - compiled
    """Re-balance the islands if they changed: the splits the searches found or, when the
    labels are stale (no search, or past its budget), all islands by union-find."""
    st, sf = ws.state, ws.sums
    if st[10]:
        cur = find_islands(ws, grid)
        # outages only split islands: same count, same partition (but labels from the
        # searches were numbered otherwise: balance again under the union-find labels)
        if cur != st[2] or st[8]:
            st[2] = cur
            sf[0] = balance_slot(ws, cur, grid, base_mva)
        st[8], st[9], st[10], st[11] = 0, 0, 0, 0
    elif st[9]:
        add_splits(ws, grid, base_mva)


@njit(cache=True)
def _assemble(ws: Workspace, grid: CompiledGrid, g: int, mats: BatchArrays
              ) -> None:  # pragma: no cover - compiled
    """Row ``g`` of the batch's staging arrays (``mats.diag_t``, ``mats.lower_t``, ``mats.x_t``, one
    scenario contiguous): the current B (diagonal, strictly lower entries; each grounded
    position a unit row) and right-hand side (injections less phase shifts)."""
    pos, f_bus, t_bus, pf_pu = grid.pos, grid.f_bus, grid.t_bus, grid.pf_pu
    acolp, arow, shifters = grid.acolp, grid.arow, grid.shifters
    ad, ao, x = mats.diag_t[g], mats.lower_t[g], mats.x_t[g]
    p_bus, diag = ws.floats[5], ws.floats[6]
    grounded, out, aval = ws.flags[0], ws.out, ws.lower
    n = pos.size
    for i in range(n):
        x[pos[i]] = p_bus[i]
    for q in range(shifters.size):
        br = shifters[q]
        if not out[br]:
            x[pos[f_bus[br]]] -= pf_pu[br]
            x[pos[t_bus[br]]] += pf_pu[br]
    for k in range(n):
        if grounded[k]:
            x[k] = 0.0
            ad[k] = 1.0
        else:
            ad[k] = diag[k]
    for j in range(n):
        if grounded[j]:
            for e in range(acolp[j], acolp[j + 1]):
                ao[e] = 0.0
        else:
            for e in range(acolp[j], acolp[j + 1]):
                ao[e] = 0.0 if grounded[arow[e]] else aval[e]


@njit(cache=True)
def _interleave(mats: BatchArrays, m: int) -> None:  # pragma: no cover - compiled
    """The staged rows of the first ``m`` scenarios into the batch's arrays, scenarios
    innermost (written a whole row of the batch at a time, not one scenario's column)."""
    ad, ao, x, sad, sao, sx = mats.diag, mats.lower, mats.x, mats.diag_t, mats.lower_t, mats.x_t
    for k in range(ad.shape[0]):
        for g in range(m):
            ad[k, g] = sad[g, k]
            x[k, g] = sx[g, k]
    for e in range(ao.shape[0]):
        for g in range(m):
            ao[e, g] = sao[g, e]


@njit(cache=True)
def _flows(ws: Workspace, grid: CompiledGrid, g: int, mats: BatchArrays,
           limit: np.ndarray) -> None:  # pragma: no cover - compiled
    """This round's overloads, ascending, into ``ws.new[:st[6]]``: the branches in service,
    not in a dark island, whose flow (pu) from the angles of batch column ``g`` (``mats.x_t
    [g]``, the solved batch transposed) has ``|flow| > limit``."""
    pos, f_bus, t_bus, b_pu, pf_pu = grid.pos, grid.f_bus, grid.t_bus, grid.b_pu, grid.pf_pu
    xs = mats.x_t[g]
    label, dead = ws.ints[1], ws.flags[1]
    new, onl, st = ws.new, ws.on, ws.state
    n_new = 0
    for q in range(st[7]):
        br = onl[q]
        a = f_bus[br]
        fl = b_pu[br] * (xs[pos[a]] - xs[pos[t_bus[br]]]) + pf_pu[br]
        if abs(fl) > limit[br] and not dead[label[a]]:
            new[n_new] = br
            n_new += 1
    st[6] = n_new


@njit(cache=True)
def _transpose(x: np.ndarray, xt: np.ndarray, m: int) -> None:  # pragma: no cover - compiled
    """``xt[g, k] = x[k, g]`` for the first ``m`` columns (each column's flows pass then
    reads its angles contiguously)."""
    for k in range(x.shape[0]):
        for g in range(m):
            xt[g, k] = x[k, g]


