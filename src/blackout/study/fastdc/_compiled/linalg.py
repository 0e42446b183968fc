"""Compiled linear algebra of the fast DC engine (numba).

- :func:`batch_solve`: ``x <- B^-1 x`` for a batch of scenarios (LDL^T on the base
  pattern of L), the compiled cascade loop's solve;

- :func:`gf2_rank`: rank over GF(2) of the XOR labels of a set of branches (how many
  islands their outage adds);
- :func:`lu_solve_rows`: triangular solves of a SuperLU factorisation for many
  right-hand sides at once;
- :func:`n1_block_stats`: per-outage N-1 statistics (worst loading, its branch, overload
  count, estimated MVA loading) from unit-transfer angles, without forming LODF columns;
- :func:`ac_loading_stats`: per-outage worst AC loading and overload count from bus
  voltages (the MVA at both ends of every branch), without forming the flow matrices.
"""

from __future__ import annotations

import numpy as np

from blackout.study.fastdc._compiled.arrays import BatchArrays, CompiledGrid
from blackout.study.jit import CHUNKS, njit, prange

__all__ = ["ac_loading_stats", "accumulate", "batch_solve", "gf2_rank", "lu_solve_rows",
           "n1_block_stats"]

def _gf2_rank_py(labels: np.ndarray) -> int:
    basis: list[int] = []
    for v in labels.tolist():
        for b in basis:
            v = min(v, v ^ b)
        if v:
            basis.append(v)
    return len(basis)


def gf2_rank(labels: np.ndarray) -> int:
    """Rank over GF(2) of 64-bit words (XOR Gaussian elimination)."""
    if labels.size > 8:  # the plain loop is quicker on a few words
        return int(_gf2_rank_nb(np.ascontiguousarray(labels, dtype=np.uint64)))
    return _gf2_rank_py(labels)


@njit(cache=True)
def _gf2_rank_nb(labels: np.ndarray) -> int:  # pragma: no cover - compiled
    basis = np.zeros(64, dtype=np.uint64)  # basis[b]: the word whose top bit is b
    rank = 0
    for i in range(labels.size):
        v = labels[i]
        for b in range(63, -1, -1):
            if (v >> np.uint64(b)) & np.uint64(1):
                if basis[b] == 0:
                    basis[b] = v
                    rank += 1
                    break
                v ^= basis[b]
        if rank == 64:
            break
    return rank

@njit(parallel=True, fastmath=True, cache=True)
def lu_solve_rows(lp: np.ndarray, li: np.ndarray, lx: np.ndarray, up: np.ndarray,
                   ui: np.ndarray, ux: np.ndarray, x: np.ndarray) -> None:  # pragma: no cover
    """In place: x <- U^-1 L^-1 x for CSC factors (L unit lower), x of shape (n, k),
    row-major, the right-hand sides split between threads."""
    n, k = x.shape
    nchunk = min(k, CHUNKS)
    step = (k + nchunk - 1) // nchunk
    for c in prange(nchunk):
        lo = c * step
        hi = min(k, lo + step)
        start = n  # leading rows that are zero in every column of the chunk stay zero
        for j in range(n):
            xj = x[j]
            for r in range(lo, hi):
                if xj[r] != 0.0:
                    start = j
                    break
            if start < n:
                break
        for j in range(start, n):
            for p in range(lp[j], lp[j + 1]):
                i = li[p]
                if i > j:
                    v = lx[p]
                    xi, xj = x[i], x[j]
                    for r in range(lo, hi):
                        xi[r] -= v * xj[r]
        for j in range(n - 1, -1, -1):
            d = 1.0
            for p in range(up[j], up[j + 1]):
                if ui[p] == j:
                    d = ux[p]
            d = 1.0 / d
            xj = x[j]
            for r in range(lo, hi):
                xj[r] *= d
            for p in range(up[j], up[j + 1]):
                i = ui[p]
                if i < j:
                    v = ux[p]
                    xi, xj = x[i], x[j]
                    for r in range(lo, hi):
                        xi[r] -= v * xj[r]


@njit(inline="always")
def accumulate(post: float, zeroed: bool, j: int, lb: int, il: float, il2: float,
               ql: float, dl: float, lim: float, worst: np.ndarray, arg: np.ndarray,
               count: np.ndarray, est: np.ndarray, new: np.ndarray,
               worse: np.ndarray, caused: np.ndarray) -> None:  # pragma: no cover
    """Fold branch ``lb``'s post-outage flow ``post`` (pu) into outage ``j``'s
    statistics: worst loading ``|post| * il`` and its branch, the count above 1, and
    the worst squared MVA estimate ``((post + dl)^2 + ql) * il2`` (``post`` alone
    when ``zeroed``: the branch carries nothing). ``lim``: 0 for a branch within its
    rating in the base case (a loading above 1 is then a new violation), else the
    loading above which its base-case violation counts as worsened. ``caused``: the
    worst loading over the branches within their rating in the base case and the
    worsened base-case violations (what the outage causes)."""
    load = abs(post) * il
    if load > worst[j]:
        worst[j] = load
        arg[j] = lb
    if load > 1.0:
        count[j] += 1
        if lim == 0.0:
            new[j] += 1
    if lim > 0.0 and load > lim:
        worse[j] += 1
    if (lim == 0.0 or load > lim) and load > caused[j]:
        caused[j] = load
    pe = 0.0 if zeroed else post + dl
    e = (pe * pe + ql) * il2
    if e > est[j]:
        est[j] = e

@njit(parallel=True, fastmath=True, cache=True)
def n1_block_stats(theta: np.ndarray, row: np.ndarray, cols: np.ndarray, f_bus: np.ndarray,
                   t_bus: np.ndarray, b_pu: np.ndarray, f0: np.ndarray, inv: np.ndarray,
                   q2: np.ndarray, dp: np.ndarray, lim: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                              np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Single-outage statistics from base-topology angles ``theta[row[bus]]`` (row-major)
    of unit transfers across the branches ``cols``: per outage the worst loading
    ``|f0 + H[:, m] f0[m] / (1 - H[m, m])| * inv``, its branch (first on ties), the
    count above 1 and the worst ``sqrt((post + dp)^2 + q2) * inv`` (``dp``: AC minus
    DC base-case flow, so the estimate is the AC base flow plus the DC change); the
    outaged branch is 0. ``lim`` per branch: see :func:`accumulate`; also returns the
    new and the worsened violations and the worst loading they cause per outage."""
    k = cols.size
    nl = f_bus.size
    scale = np.empty(k)
    for j in range(k):
        m = cols[j]
        hmm = b_pu[m] * (theta[row[f_bus[m]], j] - theta[row[t_bus[m]], j])
        scale[j] = f0[m] / (1.0 - hmm)
    nchunk = min(k, CHUNKS)
    step = (k + nchunk - 1) // nchunk
    worst = np.zeros(k)
    arg = np.zeros(k, dtype=np.int64)
    count = np.zeros(k, dtype=np.int64)
    est = np.zeros(k)
    new = np.zeros(k, dtype=np.int64)
    worse = np.zeros(k, dtype=np.int64)
    caused = np.zeros(k)
    for c in prange(nchunk):
        lo = c * step
        hi = min(k, lo + step)
        for lb in range(nl):
            tf, tt = theta[row[f_bus[lb]]], theta[row[t_bus[lb]]]
            bl, fl, il, ql, dl, ll = b_pu[lb], f0[lb], inv[lb], q2[lb], dp[lb], lim[lb]
            il2 = il * il
            for j in range(lo, hi):
                post = fl + bl * (tf[j] - tt[j]) * scale[j]
                out = cols[j] == lb
                accumulate(0.0 if out else post, out, j, lb, il, il2, ql, dl, ll,
                           worst, arg, count, est, new, worse, caused)
    return worst, arg, count, np.sqrt(est), new, worse, caused


@njit(parallel=True, cache=True)
def ac_loading_stats(v: np.ndarray, yf_ptr: np.ndarray, yf_idx: np.ndarray,
                     yf_val: np.ndarray, yt_ptr: np.ndarray, yt_idx: np.ndarray,
                     yt_val: np.ndarray, f: np.ndarray, t: np.ndarray, scale: np.ndarray,
                     skip: np.ndarray, lim: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                np.ndarray]:  # pragma: no cover
    """Per row ``r`` of the bus voltages ``v`` (rows x buses, complex pu): the worst
    loading and the count above 100 over the branches (rows of Yf/Yt, CSR): loading
    ``max(|V_f| |Yf V|, |V_t| |Yt V|) * scale`` (``scale``: 100 base_mva / rate_a,
    0 where unrated), 0 where either end has no voltage and at branch ``skip[r]``;
    then the new violations, the worsened ones and the worst loading they cause
    (``lim`` per branch, %: 0 where within the rating in the base case, else the
    loading above which its base-case violation counts as worsened)."""
    rows = v.shape[0]
    nl = f.size
    scale2 = scale * scale
    lim2 = lim * lim
    worst = np.zeros(rows)
    over = np.zeros(rows, dtype=np.int64)
    new = np.zeros(rows, dtype=np.int64)
    worse = np.zeros(rows, dtype=np.int64)
    caused = np.zeros(rows)
    for r in prange(rows):
        vr = v[r]
        w2 = 0.0
        cw2 = 0.0
        c = 0
        cn = 0
        cw = 0
        for b in range(nl):  # squared magnitudes: one square root per outage
            if b == skip[r] or scale2[b] == 0.0:
                continue
            vf, vt = vr[f[b]], vr[t[b]]
            if vf == 0 or vt == 0:
                continue
            i_f = 0j
            for p in range(yf_ptr[b], yf_ptr[b + 1]):
                i_f += yf_val[p] * vr[yf_idx[p]]
            i_t = 0j
            for p in range(yt_ptr[b], yt_ptr[b + 1]):
                i_t += yt_val[p] * vr[yt_idx[p]]
            sf = (vf.real * vf.real + vf.imag * vf.imag) * (i_f.real * i_f.real
                                                            + i_f.imag * i_f.imag)
            st = (vt.real * vt.real + vt.imag * vt.imag) * (i_t.real * i_t.real
                                                            + i_t.imag * i_t.imag)
            load2 = max(sf, st) * scale2[b]
            if load2 > w2:
                w2 = load2
            if load2 > 1e4:  # 100 %
                c += 1
                if lim2[b] == 0.0:
                    cn += 1
            if lim2[b] > 0.0 and load2 > lim2[b]:
                cw += 1
            if (lim2[b] == 0.0 or load2 > lim2[b]) and load2 > cw2:
                cw2 = load2
        worst[r] = np.sqrt(w2)
        over[r] = c
        new[r] = cn
        worse[r] = cw
        caused[r] = np.sqrt(cw2)
    return worst, over, new, worse, caused


@njit(cache=True, fastmath=False)
def batch_solve(grid: CompiledGrid, m: int, mats: BatchArrays
                ) -> None:  # pragma: no cover - compiled
    """x <- B^-1 x for the first ``m`` columns of the batch: left-looking LDL^T on the
    base pattern of L (entries the current topology lacks stay exact zeros), no
    pivoting; ``mats.zero_pivot[g]`` nonzero where column ``g`` met a zero pivot."""
    lp, li, rowp, rowc, rowo, acolp, arow = grid.lp, grid.li, grid.rowp, grid.rowc, grid.rowo, \
        grid.acolp, grid.arow
    ad, ao, x, lx, d, w, t, bad = mats.diag, mats.lower, mats.x, mats.lx, mats.d, mats.scratch, \
        mats.piv_scratch, mats.zero_pivot
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
