"""AC-CFM's slack handling (``accfm.m`` of github.com/mnoebels/AC-CFM), as pure functions
on arrays: the reference bus per island (add_reference_bus, lines 901-969), the release
of O/UXL holds when an island splits (line 177), and distribute_slack's limit loop
(lines 668-696). The AC-CFM rounds (:mod:`blackout.cascade.accfm`) call them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["references", "released_holds", "clamp_to_limits"]

#: a cap on distribute_slack's limit loop (accfm.m has none; it ends on case39 in a few)
MAX_CLAMP_PASSES = 100


def references(labels: np.ndarray, gbus: np.ndarray, gen_on: np.ndarray, pmax: np.ndarray,
               held: set[int], ref: set[int]) -> tuple[set[int], set[int]]:
    """accfm.m's add_reference_bus (lines 901-969) per island: a reference bus stays while
    a unit is in service there and O/UXL did not make it a PQ bus; otherwise the PV bus
    with the most pmax (MW, summed over its units) becomes the reference.

    ``labels`` island per bus (-1: out); ``gbus``, ``gen_on``, ``pmax`` per unit;
    ``held`` the buses O/UXL holds as PQ; ``ref`` the reference buses so far. Returns
    (reference buses, islands with generation but no PV bus left: accfm.m line 269
    sends those to VCLS)."""
    nb = labels.size
    pmax_at = np.bincount(gbus[gen_on], weights=pmax[gen_on], minlength=nb)
    has_gen = np.zeros(nb, dtype=bool)
    has_gen[gbus[gen_on]] = True
    pv = has_gen & ~np.isin(np.arange(nb), list(held))
    no_slack: set[int] = set()
    refs: set[int] = set()
    for lab in np.unique(labels[labels >= 0]).tolist():
        members = labels == lab
        if not (members & has_gen).any():
            continue
        kept = [b for b in ref if members[b] and pv[b]]
        if len(kept) == 1:
            refs.add(kept[0])
            continue
        cand = np.flatnonzero(members & pv)
        if cand.size == 0:
            no_slack.add(int(lab))
            continue
        refs.add(int(cand[np.argmax(pmax_at[cand])]))
    return refs, no_slack


def released_holds(prev: np.ndarray | None, labels: np.ndarray) -> set[int]:
    """accfm.m line 177: the buses of every island (labels ``prev``) that is now split in
    several (labels ``labels``); their generator buses become PV buses again."""
    if prev is None:
        return set()
    out: set[int] = set()
    for old in np.unique(prev[prev >= 0]).tolist():
        members = prev == old
        if len(set(labels[members].tolist())) > 1:
            out.update(np.flatnonzero(members).tolist())
    return out


def clamp_to_limits(p: np.ndarray, pmin: np.ndarray, pmax: np.ndarray) -> np.ndarray:
    """distribute_slack's loop (accfm.m lines 668-696) on the units' outputs ``p`` (MW):
    while a unit lies beyond [pmin, pmax] it is set to the limit; the surplus scales up
    the units below pmax in proportion to their output, the deficit likewise the units
    above pmin (line 690, the sign as written there); each scaling rounded to 4 decimals."""
    p = np.array(p, dtype=float)
    for _ in range(MAX_CLAMP_PASSES):
        over, under = p > pmax, p < pmin
        if not (over.any() or under.any()):
            break
        surplus = float((p[over] - pmax[over]).sum())
        deficit = -float((p[under] - pmin[under]).sum())
        p[over], p[under] = pmax[over], pmin[under]
        below = p < pmax
        base = float(p[below].sum())
        if base > 0 and surplus / base > 0:
            p[below] = np.round((1 + surplus / base) * p[below], 4)
        above = p > pmin
        base = float(p[above].sum())
        if base > 0 and deficit / base > 0:
            p[above] = np.round((1 + deficit / base) * p[above], 4)
    return p
