"""Single-branch outages of one island by fast-decoupled AC power flow on the base factors.

The outages that keep the island connected are solved here before lightsim2grid's
contingency analysis sees them (:mod:`blackout.study.contingency.ac_verify`): a fast-decoupled power
flow (Stott and Alsac 1974, the XB version of MATPOWER's ``fdpf``: B' without resistance,
charging, shunts and taps; B'' without phase shifts) in which no matrix is refactorised
per outage. B' and B'' of the intact island are LU-factorised once (SuperLU); an outage
removes its branch's 2x2 block from each, so every solve of an outage is the base solve
plus a rank-2 Woodbury correction (``W = B^-1 U`` found once per outage), and its
mismatch is the base Ybus product less the branch's own 2x2 block. The iterations run in
compiled code (:mod:`blackout.study.contingency.fdpf_kernel`), several outages per thread at once.

The mismatch equations are those of Newton-Raphson (constant-power injections, the slack
takes the imbalance, PV buses hold their magnitude, no reactive limits), so a converged
outage has the same voltages to the same tolerance (max |mismatch| over P at PV/PQ buses
and Q at PQ buses, pu); an outage that does not converge within ``max_it`` iterations is
flagged and handed back to the caller (Newton-Raphson).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pandapower.pypower.idx_brch import BR_B, BR_R, SHIFT, TAP
from pandapower.pypower.idx_bus import BS
from pandapower.pypower.makeYbus import makeYbus
from scipy.sparse import csc_matrix, csr_matrix, tril, triu
from scipy.sparse.linalg import splu

from blackout.study.contingency.fdpf_kernel import SLOTS, outages
from blackout.study.jit import get_num_threads

__all__ = ["DecoupledIsland", "decoupled_island", "solve_outages"]

Factors = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class DecoupledIsland:
    """One island's base data for the outage solves (indices local to the island).

    y* : the island's Ybus (CSR). sbus : scheduled injections, pu. v0 : the base-case
    solution. set_p / set_q : the buses of B' (PV and PQ) and B'' (PQ); pos_p / pos_q :
    each bus's row there (-1: none). fac_p / fac_q : the LU factors (see ``_factors``).
    blk / cp / cq : per live branch of the island, its 2x2 block (ff, ft, tf, tt) of Ybus,
    B' and B''. f / t : its end buses (local).
    """

    yp: np.ndarray
    yi: np.ndarray
    yv: np.ndarray
    sbus: np.ndarray
    v0: np.ndarray
    set_p: np.ndarray
    pos_p: np.ndarray
    set_q: np.ndarray
    pos_q: np.ndarray
    fac_p: Factors
    fac_q: Factors
    f: np.ndarray
    t: np.ndarray
    blk: np.ndarray
    cp: np.ndarray
    cq: np.ndarray


def decoupled_island(base_mva: float, bus: np.ndarray, branch: np.ndarray,
                     buses: np.ndarray, rows: np.ndarray, ref: np.ndarray, pv: np.ndarray,
                     pq: np.ndarray, sbus: np.ndarray, v0: np.ndarray) -> DecoupledIsland | None:
    """The :class:`DecoupledIsland` of the island ``buses`` (Grid positions, ascending)
    whose live branches are ``rows`` of the internal ``branch`` array (pandapower layout,
    ``bus`` likewise); ``ref``/``pv``/``pq`` local indices, ``sbus`` pu, ``v0`` the base
    solution of the island. None when B' or B'' is singular or empty (no PQ bus)."""
    local = np.full(bus.shape[0], -1, dtype=np.int64)
    local[buses] = np.arange(buses.size)
    ib = bus[buses].copy()
    ib[:, 0] = np.arange(buses.size)
    br = branch[rows].copy()
    f = local[br[:, 0].real.astype(np.int64)]
    t = local[br[:, 1].real.astype(np.int64)]
    br[:, 0], br[:, 1] = f, t
    y, yf, yt = makeYbus(base_mva, ib, br)
    nl = rows.size
    # B' (XB): no resistance, charging, bus shunts or taps; B'': no phase shifts
    bp_bus, bp_br = ib.copy(), br.copy()
    bp_bus[:, BS] = 0.0
    bp_br[:, BR_B] = 0.0
    bp_br[:, TAP] = 1.0
    bp_br[:, BR_R] = 0.0
    bpp_br = br.copy()
    bpp_br[:, SHIFT] = 0.0
    bp, bpf, bpt = makeYbus(base_mva, bp_bus, bp_br)
    bpp, bppf, bppt = makeYbus(base_mva, ib, bpp_br)
    set_p = np.sort(np.concatenate([pv, pq])).astype(np.int64)
    set_q = np.sort(pq).astype(np.int64)
    if set_p.size == 0 or set_q.size == 0:  # nothing to decouple: Newton-Raphson does it
        return None
    try:
        fac_p = _factors(-csc_matrix(bp)[set_p][:, set_p].imag)
        fac_q = _factors(-csc_matrix(bpp)[set_q][:, set_q].imag)
    except RuntimeError:  # singular
        return None
    pos_p = np.full(buses.size, -1, dtype=np.int64)
    pos_p[set_p] = np.arange(set_p.size)
    pos_q = np.full(buses.size, -1, dtype=np.int64)
    pos_q[set_q] = np.arange(set_q.size)
    y = csr_matrix(y)
    y.sort_indices()
    return DecoupledIsland(
        y.indptr.astype(np.int64), y.indices.astype(np.int64), y.data.astype(complex),
        np.asarray(sbus, dtype=complex), np.asarray(v0, dtype=complex),
        set_p, pos_p, set_q, pos_q, fac_p, fac_q, f, t,
        _blocks(yf, yt, f, t, nl), -_blocks(bpf, bpt, f, t, nl).imag,
        -_blocks(bppf, bppt, f, t, nl).imag)


def _blocks(yf: csr_matrix, yt: csr_matrix, f: np.ndarray, t: np.ndarray,
            nl: int) -> np.ndarray:
    """Each branch's (ff, ft, tf, tt) entries of a bus matrix built by makeYbus."""
    yf, yt = csr_matrix(yf), csr_matrix(yt)
    r = np.arange(nl)
    return np.stack([np.asarray(yf[r, f]).ravel(), np.asarray(yf[r, t]).ravel(),
                     np.asarray(yt[r, f]).ravel(), np.asarray(yt[r, t]).ravel()], axis=1)


def _factors(a: csc_matrix) -> Factors:
    """LU of ``a`` (``Pr a Pc = L U``, SuperLU) as the compiled solve takes it: row and
    column permutations, L and U off their diagonals by row (CSR) and U's diagonal (L's is
    1). B' and B'' are symmetric: a symmetric ordering without pivoting first (about 30 %
    less fill than COLAMD here), COLAMD with partial pivoting if that meets a zero pivot."""
    a = csc_matrix(a)
    try:
        lu = splu(a, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True})
    except RuntimeError:
        lu = splu(a, permc_spec="COLAMD")
    lo, hi = csr_matrix(tril(lu.L, -1)), csr_matrix(triu(lu.U, 1))
    lo.sort_indices()
    hi.sort_indices()
    return (lu.perm_r.astype(np.int64), lu.perm_c.astype(np.int64),
            lo.indptr.astype(np.int64), lo.indices.astype(np.int64), lo.data.astype(float),
            hi.indptr.astype(np.int64), hi.indices.astype(np.int64), hi.data.astype(float),
            np.asarray(lu.U.diagonal(), dtype=float))


def solve_outages(isl: DecoupledIsland, branches: np.ndarray, *, tol: float,
                  max_it: int, slots: int = SLOTS
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each branch of ``branches`` (positions among the island's live branches) out in turn:
    ``(v, converged, iterations)``, ``v[k]`` the island's complex voltages (pu, local
    order) with branch k out. ``tol``: max |mismatch|, pu; ``max_it``: iterations (a P and
    a Q half each); ``slots``: outages in flight per thread (the answer does not depend
    on it)."""
    k = branches.size
    v = np.zeros((k, isl.v0.size), dtype=complex)
    conv = np.zeros(k, dtype=np.bool_)
    iters = np.zeros(k, dtype=np.int64)
    if k == 0:
        return v, conv, iters
    nchunk = max(1, min(k, 2 * get_num_threads()))
    outages(isl.yp, isl.yi, isl.yv, isl.sbus, isl.v0, isl.set_p, isl.pos_p, isl.set_q,
            isl.pos_q, isl.fac_p, isl.fac_q, isl.f, isl.t, isl.blk, isl.cp, isl.cq,
            np.asarray(branches, dtype=np.int64), float(tol), int(max_it), nchunk,
            int(slots), v, conv, iters)
    return v, conv, iters
