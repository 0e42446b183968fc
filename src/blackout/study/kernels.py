"""Compiled kernels of the fast DC engine (numba where installed, numpy/scipy otherwise).

- :func:`gf2_rank`: rank over GF(2) of the XOR labels of a set of branches (how many
  islands their outage adds);
- :func:`lu_solve_rows`: triangular solves of a SuperLU factorisation for many
  right-hand sides at once;
- :func:`n1_block_stats`: per-outage N-1 statistics (worst loading, its branch, overload
  count, estimated MVA loading) from unit-transfer angles, without forming LODF columns.
"""

from __future__ import annotations

import numpy as np

# lu_solve_rows and n1_block_stats exist only where numba is installed (HAVE_NUMBA)
__all__ = ["HAVE_NUMBA", "accumulate", "gf2_rank", "lu_solve_rows", "n1_block_stats"]

try:  # numba pays for the triangular solves and the N-1 statistics; numpy/scipy without it
    import numba as _nb

    HAVE_NUMBA = True
    #: right-hand sides / outages are split in this many chunks between threads: a
    #: compile-time constant (a call to get_num_threads would keep the kernels out of
    #: numba's on-disk cache); results do not depend on it
    CHUNKS = 4 * max(1, int(getattr(_nb.config, "NUMBA_NUM_THREADS", 1)))
except ImportError:  # pragma: no cover - numba is optional: scipy SuperLU and numpy instead
    HAVE_NUMBA = False


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
    if HAVE_NUMBA and labels.size > 8:
        return int(_gf2_rank_nb(np.ascontiguousarray(labels, dtype=np.uint64)))
    return _gf2_rank_py(labels)


if HAVE_NUMBA:
    @_nb.njit(cache=True)
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

    @_nb.njit(parallel=True, fastmath=True, cache=True)
    def lu_solve_rows(lp: np.ndarray, li: np.ndarray, lx: np.ndarray, up: np.ndarray,
                       ui: np.ndarray, ux: np.ndarray, x: np.ndarray) -> None:  # pragma: no cover
        """In place: x <- U^-1 L^-1 x for CSC factors (L unit lower), x of shape (n, k),
        row-major, the right-hand sides split between threads."""
        n, k = x.shape
        nchunk = min(k, CHUNKS)
        step = (k + nchunk - 1) // nchunk
        for c in _nb.prange(nchunk):
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


if HAVE_NUMBA:
    @_nb.njit(inline="always")
    def accumulate(post: float, zeroed: bool, j: int, lb: int, il: float, il2: float,
                   ql: float, dl: float, worst: np.ndarray, arg: np.ndarray,
                   count: np.ndarray, est: np.ndarray) -> None:  # pragma: no cover - compiled
        """Fold branch ``lb``'s post-outage flow ``post`` (pu) into outage ``j``'s
        statistics: worst loading ``|post| * il`` and its branch, the count above 1, and
        the worst squared MVA estimate ``((post + dl)^2 + ql) * il2`` (``post`` alone
        when ``zeroed``: the branch carries nothing)."""
        load = abs(post) * il
        if load > worst[j]:
            worst[j] = load
            arg[j] = lb
        if load > 1.0:
            count[j] += 1
        pe = 0.0 if zeroed else post + dl
        e = (pe * pe + ql) * il2
        if e > est[j]:
            est[j] = e

    @_nb.njit(parallel=True, fastmath=True, cache=True)
    def n1_block_stats(theta: np.ndarray, row: np.ndarray, cols: np.ndarray, f_bus: np.ndarray,
                       t_bus: np.ndarray, b_pu: np.ndarray, f0: np.ndarray, inv: np.ndarray,
                       q2: np.ndarray, dp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                np.ndarray]:  # pragma: no cover - compiled
        """Single-outage statistics from base-topology angles ``theta[row[bus]]`` (row-major)
        of unit transfers across the branches ``cols``: per outage the worst loading
        ``|f0 + H[:, m] f0[m] / (1 - H[m, m])| * inv``, its branch (first on ties), the
        count above 1 and the worst ``sqrt((post + dp)^2 + q2) * inv`` (``dp``: AC minus
        DC base-case flow, so the estimate is the AC base flow plus the DC change); the
        outaged branch is 0."""
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
        for c in _nb.prange(nchunk):
            lo = c * step
            hi = min(k, lo + step)
            for lb in range(nl):
                tf, tt = theta[row[f_bus[lb]]], theta[row[t_bus[lb]]]
                bl, fl, il, ql, dl = b_pu[lb], f0[lb], inv[lb], q2[lb], dp[lb]
                il2 = il * il
                for j in range(lo, hi):
                    post = fl + bl * (tf[j] - tt[j]) * scale[j]
                    out = cols[j] == lb
                    accumulate(0.0 if out else post, out, j, lb, il, il2, ql, dl,
                               worst, arg, count, est)
        return worst, arg, count, np.sqrt(est)
