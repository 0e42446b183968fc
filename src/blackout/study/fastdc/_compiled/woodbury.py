"""The Woodbury path of the compiled cascade loop (:mod:`blackout.study.fastdc._compiled.loop`).

While at most ``WOODBURY_MAX`` of a scenario's outages have independent XOR cycle-space
labels, its round's flows are the Woodbury update ``F + H[:, M] (I - H[M, M])^-1 F[M]``
over those outages ``M`` of the base-topology flows ``F`` (the base case's, or after an
island split those of the re-balanced injections: :mod:`blackout.study.fastdc._compiled.split`).
"""

from __future__ import annotations

import numpy as np

from blackout.study.fastdc._compiled.arrays import BaseArrays, CompiledGrid, Workspace
from blackout.study.fastdc._compiled.split import add_splits, cut_of, note_split, shift_base
from blackout.study.jit import njit

__all__: list[str] = []


@njit(cache=True)
def woodbury_round(ws: Workspace, grid: CompiledGrid, base: BaseArrays, base_mva: float,
                    limit: np.ndarray) -> bool:  # pragma: no cover - compiled
    """One round of a slot on the Woodbury path: islands split since the last round
    re-balanced and their base-topology flows solved, the update, the overload check.
    False on a singular Woodbury system."""
    st = ws.state
    f_base = base.f0
    if st[8]:  # islands split on this path: base flows of the new balance
        if st[9] and add_splits(ws, grid, base_mva):
            shift_base(ws, grid, base)
        f_base = ws.flow_base
    if not _woodbury(ws, base, st[3], f_base):
        return False
    _check(ws, grid, limit, st[8] != 0)
    return True


@njit(cache=True)
def enter_woodbury(ws: Workspace, grid: CompiledGrid, base: BaseArrays, br: int, nm: int, kw: int,
           n_isl: int) -> tuple[int, bool]:  # pragma: no cover - compiled
    """Branch ``br`` goes out while the slot is on the Woodbury path: onto the outage list
    if its label is independent, else (it closed a cut) a split island when the base
    factors allow (:mod:`blackout.study.fastdc._compiled.split`); returns (list length, still on
    the path)."""
    mlist, basis, st = ws.wb_out, ws.basis, ws.state
    if _gf2_insert(basis, base.xor[br]):
        if nm == kw:
            return nm, False
        mlist[nm] = br
        return nm + 1, True
    if base.d.size != ws.ints[1].size:  # no base factors: the split is union-find's
        st[10] = 1
        return nm, False
    res = cut_of(ws, grid, br, n_isl + st[9], ws.ints[1].size)[0]
    if res > 0:
        note_split(ws, res, base.f0)
        return nm, True
    return nm, False  # a label collision: no cut


@njit(cache=True)
def _check(ws: Workspace, grid: CompiledGrid, limit: np.ndarray,
           energised_only: bool) -> None:  # pragma: no cover - compiled
    """This round's overloads, ascending, into ``ws.new[:st[6]]``: every branch in service
    with ``|flow| > limit`` (``energised_only``: not in a dark island)."""
    f_bus = grid.f_bus
    label, dead, flow, new, onl, st = ws.ints[1], ws.flags[1], ws.flow, ws.new, ws.on, ws.state
    n_new = 0
    for q in range(st[7]):
        br = onl[q]
        if abs(flow[br]) > limit[br] and not (energised_only and dead[label[f_bus[br]]]):
            new[n_new] = br
            n_new += 1
    st[6] = n_new


@njit(cache=True)
def _woodbury(ws: Workspace, base: BaseArrays, k: int,
              f0: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Flows (pu) with the ``k`` branches ``ws.wb_out[:k]`` out, the base islands kept:
    ``f0 + H[:, M] (I - H[M, M])^-1 f0[M]`` (Gaussian elimination, partial pivoting) for
    base-topology flows ``f0``. False on a singular system."""
    ht = base.ht
    flow, m, a, c = ws.flow, ws.wb_out, ws.wb_mat, ws.wb_vec
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
