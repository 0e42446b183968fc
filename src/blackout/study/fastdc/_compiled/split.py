"""Islands inside the Woodbury path of the compiled cascade loop.

An outage whose XOR cycle-space label depends on those of the branches already out closes
a cut: it splits an island in two. Instead of leaving the Woodbury path for a union-find
over the whole grid and a factorisation of the round's own B, the loop

1. finds the smaller side of the cut by a search from both ends of the branch, alternating
   one bus at a time, so the work is about twice the smaller side (``cut_of``), and gives
   that side a new island number;
2. re-balances the islands by the rule of :meth:`DCModel.balance` (the same sums in the
   same order as the union-find path, so the same injections) once per round that split
   something, unless every new side is inert (no load, generation or shunt conductance:
   it goes dark and changes no injection);
3. solves the re-balanced injections on the *base* topology with the base factors of B
   (``shift_base``: flows ``F = f0 + b (dtheta_f - dtheta_t)`` for ``dp = p - p0``);
4. applies the Woodbury update of the independent outages only (those whose labels
   entered the GF(2) basis) to ``F``.

Why step 4 is exact: the independent outages ``M'`` keep every base island connected
(their labels are independent: no subset is a cut), so ``I - H[M', M']`` is invertible and
the update gives the flows of the topology with ``M'`` out. The other outages (one per new
island) then form a spanning tree of the new islands within each base island, so each is a
bridge of that topology and carries the net injection of one side, which the balancing
rule makes zero (a dark island injects nothing; an energised one is balanced by its own
slack). Removing them changes no flow. Branches in dark islands are skipped by the
overload check, as on the other paths.
"""

from __future__ import annotations

import numpy as np

from blackout.study.fastdc._compiled.arrays import BaseArrays, BatchArrays, CompiledGrid, Workspace
from blackout.study.fastdc._compiled.islands import balance_slot
from blackout.study.jit import njit

__all__ = ["base_factors"]


def base_factors(grid: CompiledGrid, base_grounded: np.ndarray, batch_solve: object
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(L values on the base pattern, D) of the LDL^T of the base B with the base case's
    grounded positions as unit rows, by the loop's own factorisation (``batch_solve``, one
    column); two empty arrays when it meets a zero pivot (splits then leave the Woodbury
    path, as before)."""
    diag0, aval0, acolp, arow, lp = grid.diag0, grid.aval0, grid.acolp, grid.arow, grid.lp
    nb = diag0.size
    ad = np.where(base_grounded, 1.0, diag0)[:, None].copy()
    col_of = np.repeat(np.arange(nb), np.diff(acolp))
    ao = np.zeros((max(arow.size, 1), 1))
    ao[:arow.size, 0] = np.where(base_grounded[col_of] | base_grounded[arow], 0.0, aval0)
    mats = BatchArrays(ad, ao, np.zeros((nb, 1)), np.zeros((max(int(lp[-1]), 1), 1)),
                       np.zeros((nb, 1)), np.zeros((nb, 1)), np.zeros(1), np.zeros(1),
                       np.zeros((1, nb)), np.zeros((1, nb)), np.zeros((1, ao.shape[0])))
    batch_solve(grid, 1, mats)  # type: ignore[operator]
    if mats.zero_pivot[0] != 0.0:
        return np.zeros(0), np.zeros(0)
    return mats.lx[:, 0].copy(), mats.d[:, 0].copy()


@njit(cache=True)
def note_split(ws: Workspace, res: int, f0: np.ndarray) -> None:  # pragma: no cover - compiled
    """Count a split found by :func:`cut_of` (``res`` 1 or 3) in the slot's state: one more
    island to add at the next round, re-balanced then unless the new side is inert (3:
    no load, generation or shunt; it went dark in :func:`cut_of` and changes no
    injection). On the Woodbury path its flows then start from ``ws.flow_base``."""
    st = ws.state
    st[9] += 1
    if res == 1:
        st[11] = 1
    if not st[8]:
        flow0 = ws.flow_base
        for br in range(flow0.size):
            flow0[br] = f0[br]
        st[8] = 1


@njit(cache=True)
def add_splits(ws: Workspace, grid: CompiledGrid,
               base_mva: float) -> bool:  # pragma: no cover - compiled
    """Count the splits found since the last round (``st[9]``) into the islands and
    re-balance them (served MW into ``ws.sums[0]``) unless every new side was inert;
    True if it re-balanced (the injections changed)."""
    st = ws.state
    st[2] += st[9]
    st[9] = 0
    if not st[11]:
        return False
    st[11] = 0
    ws.sums[0] = balance_slot(ws, st[2], grid, base_mva)
    return True


@njit(cache=True, inline="always")
def _grow(i: int, me: int, queue: np.ndarray, tail: int, grid: CompiledGrid, out: np.ndarray,
          mark: np.ndarray) -> tuple[int, bool]:  # pragma: no cover - compiled
    """One step of side ``me`` (1 or 2) of :func:`cut_of`'s search: bus ``i``'s neighbours
    over the branches in service, unmarked ones marked and queued; returns (queue tail,
    the other side's mark met). Inlined into the search (no call per bus)."""
    adjp, adjb, f_bus, t_bus = grid.adjp, grid.adjb, grid.f_bus, grid.t_bus
    for e in range(adjp[i], adjp[i + 1]):
        x = adjb[e]
        if not out[x]:
            j = f_bus[x] + t_bus[x] - i
            if mark[j] == 0:
                mark[j] = me
                queue[tail] = j
                tail += 1
            elif mark[j] != me:
                return tail, True
    return tail, False


@njit(cache=True)
def cut_of(ws: Workspace, grid: CompiledGrid, br: int, new_id: int,
         budget: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """Did taking out branch ``br`` split its island? Searches from both of its ends over
    the branches in service, alternating one bus at a time. Returns (1, buses searched)
    when one side's search ended first: that side (the smaller) is labelled ``new_id``;
    (3, n) the same when that side is inert (no load, generation or shunt: it is dark
    at once, its buses grounded); (0, n) when the two searches met: no split; (-1, n)
    past ``budget`` buses. Only a split changes the slot's state."""
    f_bus, t_bus = grid.f_bus, grid.t_bus
    out, label = ws.out, ws.ints[1]
    mark, qa, qb = ws.marks[0], ws.marks[1], ws.marks[2]
    a, b = f_bus[br], t_bus[br]
    if a == b:
        return 0, 0
    mark[a], mark[b] = 1, 2
    qa[0], qb[0] = a, b
    ha, ta, hb, tb = 0, 1, 0, 1
    res = 2  # 2: searching; 1: a side ended; 0: the searches met; -1: over budget
    while res == 2:
        if ha == ta or hb == tb:
            res = 1
        elif ha + hb > budget:
            res = -1
        else:
            ta, met = _grow(qa[ha], 1, qa, ta, grid, out, mark)
            ha += 1
            if not met:
                tb, met = _grow(qb[hb], 2, qb, tb, grid, out, mark)
                hb += 1
            if met:
                res = 0
    if res == 1:
        side, n_side = (qa, ta) if ha == ta else (qb, tb)
        inert, pos, grounded = grid.inert, grid.pos, ws.flags[0]
        quiet = True
        for q in range(n_side):
            label[side[q]] = new_id
            quiet &= inert[side[q]]
        if quiet:
            res = 3
            ws.flags[1][new_id] = True
            for q in range(n_side):
                grounded[pos[side[q]]] = True
    for q in range(ta):
        mark[qa[q]] = 0
    for q in range(tb):
        mark[qb[q]] = 0
    return res, ha + hb


@njit(cache=True)
def shift_base(ws: Workspace, grid: CompiledGrid,
               base: BaseArrays) -> None:  # pragma: no cover - compiled
    """Base-topology flows (pu) of the slot's injections ``ws.floats[5]`` into ``ws.flow_base``:
    ``f0`` plus the flows of ``p - p0`` solved with the base factors (grounded positions of
    the base case held at zero angle; ``p - p0`` sums to zero on each base island)."""
    pos, lp, li, f_bus, t_bus, b_pu = grid.pos, grid.lp, grid.li, grid.f_bus, grid.t_bus, grid.b_pu
    f0, b_p, b_grounded, lx, d = base.f0, base.p, base.grounded, base.lx, base.d
    p, xs, flow0 = ws.floats[5], ws.floats[7], ws.flow_base
    n = pos.size
    for i in range(n):
        xs[pos[i]] = p[i] - b_p[i]
    for k in range(n):
        if b_grounded[k]:
            xs[k] = 0.0
    for j in range(n):  # L z = x
        xj = xs[j]
        if xj != 0.0:
            for q in range(lp[j], lp[j + 1]):
                xs[li[q]] -= lx[q] * xj
    for j in range(n):
        xs[j] /= d[j]
    for j in range(n - 1, -1, -1):  # L^T theta = z
        v = xs[j]
        for q in range(lp[j], lp[j + 1]):
            v -= lx[q] * xs[li[q]]
        xs[j] = v
    for br in range(f_bus.size):
        flow0[br] = f0[br] + b_pu[br] * (xs[pos[f_bus[br]]] - xs[pos[t_bus[br]]])
