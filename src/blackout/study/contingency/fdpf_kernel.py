"""The compiled loop of :mod:`blackout.study.contingency.fdpf`: fast-decoupled iterations of many
outages at once.

Each thread keeps ``SLOTS`` outages in flight, their state stored outages-innermost
(``[bus, slot]``) so that the Ybus product and the triangular solves read each matrix
entry once for all slots and run over the slots in SIMD. A slot whose outage converged (or
ran out of iterations) takes the next outage at the start of the following iteration, so
no slot waits for the slowest one. Every outage is computed on its own (the same
operations in the same order whatever shares the batch), so results do not depend on the
thread count or the batching.
"""

from __future__ import annotations

import numpy as np

from blackout.study.jit import njit, prange

__all__ = ["SLOTS", "outages"]

#: outages in flight per thread
SLOTS = 16

Factors = tuple[np.ndarray, ...]


@njit(cache=True)
def lu_solve(fac: Factors, b: np.ndarray, w: np.ndarray,
             x: np.ndarray) -> None:  # pragma: no cover - compiled
    """x <- a^-1 b from ``ac_fdpf._factors(a)`` (``w`` scratch of the same size); both
    triangular solves by rows (gathers)."""
    perm_r, perm_c, lp, li, lv, up, ui, uv, ud = fac
    m = b.size
    for i in range(m):
        w[perm_r[i]] = b[i]
    for i in range(m):
        s = w[i]
        for p in range(lp[i], lp[i + 1]):
            s -= lv[p] * w[li[p]]
        w[i] = s
    for i in range(m - 1, -1, -1):
        s = w[i]
        for p in range(up[i], up[i + 1]):
            s -= uv[p] * w[ui[p]]
        w[i] = s / ud[i]
    for i in range(m):
        x[i] = w[perm_c[i]]


@njit(cache=True)
def woodbury_setup(fac: Factors, pos: np.ndarray, a: int, b: int, c: np.ndarray,
                   wcols: np.ndarray, kmat: np.ndarray, idx: np.ndarray,
                   e: np.ndarray, w: np.ndarray) -> int:  # pragma: no cover - compiled
    """For the matrix less the block ``c`` (ff, ft, tf, tt) at buses ``a``/``b``: the rows
    ``idx[:r]`` the block touches, ``wcols[:r] = (a^-1 U)^T`` and ``kmat = (I - C U^T W)^-1 C``
    so that the outage's solve is ``x + W kmat U^T x``. Returns r (0: no correction), or -1
    when the corrected matrix is singular."""
    r = 0
    ends = (a, b)
    cc = np.zeros((2, 2))
    sel = np.zeros(2, dtype=np.int64)
    for side in range(2):
        if pos[ends[side]] >= 0:
            idx[r] = pos[ends[side]]
            sel[r] = side
            r += 1
    if r == 0:
        return 0
    for i in range(r):
        for j in range(r):
            cc[i, j] = c[2 * sel[i] + sel[j]]
    for i in range(r):
        e[:] = 0.0
        e[idx[i]] = 1.0
        lu_solve(fac, e, w, wcols[i])
    g = np.zeros((2, 2))  # U^T W
    for i in range(r):
        for j in range(r):
            g[i, j] = wcols[j][idx[i]]
    m = np.zeros((2, 2))  # I - C G
    for i in range(r):
        for j in range(r):
            s = 1.0 if i == j else 0.0
            for q in range(r):
                s -= cc[i, q] * g[q, j]
            m[i, j] = s
    if r == 1:
        if abs(m[0, 0]) < 1e-10:
            return -1
        kmat[0, 0] = cc[0, 0] / m[0, 0]
        kmat[0, 1] = kmat[1, 0] = kmat[1, 1] = 0.0
        return 1
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    if abs(det) < 1e-10:
        return -1
    inv = np.array([[m[1, 1], -m[0, 1]], [-m[1, 0], m[0, 0]]]) / det
    for i in range(2):
        for j in range(2):
            kmat[i, j] = inv[i, 0] * cc[0, j] + inv[i, 1] * cc[1, j]
    return 2


@njit(cache=True)
def rotation(dx: float) -> complex:  # pragma: no cover - compiled
    """exp(-j dx): Taylor terms to dx^8 for |dx| < 0.01 (error < 1e-17), else cos/sin."""
    if abs(dx) < 0.01:
        d2 = dx * dx
        c = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0 - d2 * (1.0 / 720.0 - d2 / 40320.0)))
        sn = dx * (1.0 - d2 * (1.0 / 6.0 - d2 * (1.0 / 120.0 - d2 / 5040.0)))
        return complex(c, -sn)
    return complex(np.cos(dx), -np.sin(dx))


@njit(cache=True)
def _batch_solve(fac: Factors, x: np.ndarray, w: np.ndarray,
                 acc: np.ndarray) -> None:  # pragma: no cover - compiled
    """x[:, g] <- a^-1 x[:, g] for every slot g (the base factors, slots innermost)."""
    perm_r, perm_c, lp, li, lv, up, ui, uv, ud = fac
    m, ns = x.shape
    for i in range(m):
        for g in range(ns):
            w[perm_r[i], g] = x[i, g]
    for i in range(m):
        for g in range(ns):
            acc[g] = w[i, g]
        for p in range(lp[i], lp[i + 1]):
            c, j = lv[p], li[p]
            for g in range(ns):
                acc[g] -= c * w[j, g]
        for g in range(ns):
            w[i, g] = acc[g]
    for i in range(m - 1, -1, -1):
        for g in range(ns):
            acc[g] = w[i, g]
        for p in range(up[i], up[i + 1]):
            c, j = uv[p], ui[p]
            for g in range(ns):
                acc[g] -= c * w[j, g]
        d = ud[i]
        for g in range(ns):
            w[i, g] = acc[g] / d
    for i in range(m):
        for g in range(ns):
            x[i, g] = w[perm_c[i], g]


@njit(cache=True)
def _batch_mismatch(yp: np.ndarray, yi: np.ndarray, yr: np.ndarray, ym: np.ndarray,
                    vr: np.ndarray, vi: np.ndarray, sr: np.ndarray, si: np.ndarray,
                    kind: np.ndarray, ends: np.ndarray, blk: np.ndarray,
                    active: np.ndarray, mr: np.ndarray, mi: np.ndarray, acc: np.ndarray,
                    worst: np.ndarray) -> None:  # pragma: no cover - compiled
    """Per slot: currents Y V less the outaged branch's block, mismatch
    ``V conj(I) - Sbus`` into (mr, mi) and ``worst[g]``, the largest |P| at PV/PQ and
    |Q| at PQ buses (inf where one is not a number)."""
    n, ns = vr.shape
    for g in range(ns):
        worst[g] = 0.0
        acc[2, g] = 0.0  # sum of the mismatches: NaN if any is
    for r in range(n):
        for g in range(ns):
            acc[0, g] = 0.0
            acc[1, g] = 0.0
        for p in range(yp[r], yp[r + 1]):
            c, a, b = yi[p], yr[p], ym[p]
            for g in range(ns):
                acc[0, g] += a * vr[c, g] - b * vi[c, g]
                acc[1, g] += a * vi[c, g] + b * vr[c, g]
        for g in range(ns):
            mr[r, g] = acc[0, g]
            mi[r, g] = acc[1, g]
    for g in range(ns):  # the outaged branch's own currents out of its end buses
        if not active[g]:
            continue
        a, b = ends[g, 0], ends[g, 1]
        va, vb = complex(vr[a, g], vi[a, g]), complex(vr[b, g], vi[b, g])
        da = blk[g, 0] * va + blk[g, 1] * vb
        db = blk[g, 2] * va + blk[g, 3] * vb
        mr[a, g] -= da.real
        mi[a, g] -= da.imag
        mr[b, g] -= db.real
        mi[b, g] -= db.imag
    for r in range(n):
        k = kind[r]
        for g in range(ns):
            ir, ii = mr[r, g], mi[r, g]
            mr[r, g] = vr[r, g] * ir + vi[r, g] * ii - sr[r]
            mi[r, g] = vi[r, g] * ir - vr[r, g] * ii - si[r]
        if k == 1:
            for g in range(ns):
                e = abs(mr[r, g])
                worst[g] = max(worst[g], e)
                acc[2, g] += e
        elif k == 2:
            for g in range(ns):
                e, e2 = abs(mr[r, g]), abs(mi[r, g])
                worst[g] = max(worst[g], max(e, e2))
                acc[2, g] += e + e2
    for g in range(ns):
        if acc[2, g] != acc[2, g]:
            worst[g] = np.inf


@njit(parallel=True, cache=True)
def outages(yp: np.ndarray, yi: np.ndarray, yv: np.ndarray, sbus: np.ndarray,
            v0: np.ndarray, set_p: np.ndarray, pos_p: np.ndarray, set_q: np.ndarray,
            pos_q: np.ndarray, fac_p: Factors, fac_q: Factors, f: np.ndarray,
            t: np.ndarray, blk: np.ndarray, cp: np.ndarray, cq: np.ndarray,
            branches: np.ndarray, tol: float, max_it: int, nchunk: int, slots: int,
            vout: np.ndarray, conv: np.ndarray,
            iters: np.ndarray) -> None:  # pragma: no cover - compiled
    """XB fast-decoupled iterations from the base solution for every outage ``branches[o]``
    (a position among the island's branches): ``vout[o]`` its voltages where ``conv[o]``."""
    n, mp, mq, k = v0.size, set_p.size, set_q.size, branches.size
    kind = np.zeros(n, dtype=np.int64)
    for i in range(mp):
        kind[set_p[i]] = 1
    for i in range(mq):
        kind[set_q[i]] = 2
    yr, ym = yv.real.copy(), yv.imag.copy()
    sr, si = sbus.real.copy(), sbus.imag.copy()
    step = (k + nchunk - 1) // nchunk
    for c in prange(nchunk):
        ns = slots
        vr, vi, vm = np.zeros((n, ns)), np.zeros((n, ns)), np.zeros((n, ns))
        phr, phi = np.zeros((n, ns)), np.zeros((n, ns))
        mr, mi = np.zeros((n, ns)), np.zeros((n, ns))
        xp, wp = np.zeros((mp, ns)), np.zeros((mp, ns))
        xq, wq = np.zeros((mq, ns)), np.zeros((mq, ns))
        acc, acc2, worst = np.zeros(ns), np.zeros((3, ns)), np.zeros(ns)
        cols_p, cols_q = np.zeros((ns, 2, mp)), np.zeros((ns, 2, mq))
        k_p, k_q = np.zeros((ns, 2, 2)), np.zeros((ns, 2, 2))
        i_p, i_q = np.zeros((ns, 2), dtype=np.int64), np.zeros((ns, 2), dtype=np.int64)
        r_p, r_q = np.zeros(ns, dtype=np.int64), np.zeros(ns, dtype=np.int64)
        ends = np.zeros((ns, 2), dtype=np.int64)
        bk = np.zeros((ns, 4), dtype=np.complex128)
        who = np.full(ns, -1, dtype=np.int64)
        it = np.zeros(ns, dtype=np.int64)
        active = np.zeros(ns, dtype=np.bool_)
        ep, sp, eq, sq = np.zeros(mp), np.zeros(mp), np.zeros(mq), np.zeros(mq)
        nxt, end = c * step, min(k, (c + 1) * step)
        while True:
            for g in range(ns):  # refill the free slots
                while not active[g] and nxt < end:
                    o = nxt
                    nxt += 1
                    br = branches[o]
                    a, b = f[br], t[br]
                    rp = woodbury_setup(fac_p, pos_p, a, b, cp[br], cols_p[g], k_p[g],
                                        i_p[g], ep, sp)
                    rq = woodbury_setup(fac_q, pos_q, a, b, cq[br], cols_q[g], k_q[g],
                                        i_q[g], eq, sq)
                    if rp < 0 or rq < 0:
                        continue  # singular: not converged, left to the caller
                    r_p[g], r_q[g] = rp, rq
                    ends[g, 0], ends[g, 1] = a, b
                    for q in range(4):
                        bk[g, q] = blk[br, q]
                    for q in range(n):
                        vr[q, g], vi[q, g] = v0[q].real, v0[q].imag
                        mag = abs(v0[q])
                        vm[q, g] = mag
                        phr[q, g] = vr[q, g] / mag if mag > 0 else 1.0
                        phi[q, g] = vi[q, g] / mag if mag > 0 else 0.0
                    who[g], it[g], active[g] = o, 0, True
            busy = False
            for g in range(ns):
                busy |= active[g]
            if not busy:
                break
            for half in range(2):
                _batch_mismatch(yp, yi, yr, ym, vr, vi, sr, si, kind, ends, bk, active,
                                mr, mi, acc2, worst)
                for g in range(ns):  # converged, or out of iterations: the slot is free
                    if active[g] and (worst[g] < tol or (half == 0 and it[g] >= max_it)):
                        o = who[g]
                        if worst[g] < tol:
                            conv[o] = True
                            for q in range(n):
                                vout[o, q] = complex(vr[q, g], vi[q, g])
                        iters[o] = it[g]
                        active[g] = False
                if half == 0:  # P half: angles
                    for i in range(mp):
                        bus = set_p[i]
                        for g in range(ns):
                            xp[i, g] = mr[bus, g] / vm[bus, g] if active[g] else 0.0
                    _batch_solve(fac_p, xp, wp, acc)
                    _correct(xp, r_p, i_p, cols_p, k_p, active)
                    _rotate(xp, set_p, phr, phi, vm, vr, vi)
                    for g in range(ns):
                        if active[g]:
                            it[g] += 1
                else:  # Q half: magnitudes
                    for i in range(mq):
                        bus = set_q[i]
                        for g in range(ns):
                            xq[i, g] = mi[bus, g] / vm[bus, g] if active[g] else 0.0
                    _batch_solve(fac_q, xq, wq, acc)
                    _correct(xq, r_q, i_q, cols_q, k_q, active)
                    for i in range(mq):  # free slots: x is 0, nothing moves
                        bus = set_q[i]
                        for g in range(ns):
                            vm[bus, g] -= xq[i, g]
                            vr[bus, g] = vm[bus, g] * phr[bus, g]
                            vi[bus, g] = vm[bus, g] * phi[bus, g]


@njit(cache=True)
def _rotate(x: np.ndarray, buses: np.ndarray, phr: np.ndarray, phi: np.ndarray,
            vm: np.ndarray, vr: np.ndarray, vi: np.ndarray) -> None:  # pragma: no cover
    """Angles less ``x`` at ``buses``: the unit phasors turned by exp(-j x) (Taylor terms to
    x^8 where |x| < 0.01, error < 1e-17; cos/sin elsewhere) and V rebuilt."""
    m, ns = x.shape
    for i in range(m):
        bus = buses[i]
        big = False
        for g in range(ns):
            dx = x[i, g]
            big |= abs(dx) >= 0.01
            d2 = dx * dx
            c = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0 - d2 * (1.0 / 720.0 - d2 / 40320.0)))
            sn = -dx * (1.0 - d2 * (1.0 / 6.0 - d2 * (1.0 / 120.0 - d2 / 5040.0)))
            if abs(dx) >= 0.01:
                c, sn = 1.0, 0.0
            pr = phr[bus, g] * c - phi[bus, g] * sn
            pi = phr[bus, g] * sn + phi[bus, g] * c
            phr[bus, g], phi[bus, g] = pr, pi
        if big:  # the exact turn where the series does not hold (rare)
            for g in range(ns):
                if abs(x[i, g]) >= 0.01:
                    rot = rotation(x[i, g])
                    pr = phr[bus, g] * rot.real - phi[bus, g] * rot.imag
                    pi = phr[bus, g] * rot.imag + phi[bus, g] * rot.real
                    phr[bus, g], phi[bus, g] = pr, pi
        for g in range(ns):
            vr[bus, g] = vm[bus, g] * phr[bus, g]
            vi[bus, g] = vm[bus, g] * phi[bus, g]


@njit(cache=True)
def _correct(x: np.ndarray, r: np.ndarray, idx: np.ndarray, cols: np.ndarray,
             kmat: np.ndarray, active: np.ndarray) -> None:  # pragma: no cover - compiled
    """Each active slot's rank-r Woodbury correction of its base solve ``x[:, g]``."""
    m, ns = x.shape
    for g in range(ns):
        if not active[g]:
            continue
        c0, c1 = 0.0, 0.0
        for j in range(r[g]):
            c0 += kmat[g, 0, j] * x[idx[g, j], g]
            c1 += kmat[g, 1, j] * x[idx[g, j], g]
        if r[g] < 2:
            c1 = 0.0
        if c0 != 0.0 or c1 != 0.0:
            col0, col1 = cols[g, 0], cols[g, 1]
            for q in range(m):
                x[q, g] += c0 * col0[q] + c1 * col1[q]
