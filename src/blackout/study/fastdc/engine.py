"""The fast engine: many DC overload cascades at once on one factorised model.

The rule is the detailed engine's simple DC mode (``CascadeSettings.simple_dc``)::

    loop:
        islands; balance each (see :mod:`blackout.study.fastdc.model`); DC flow
        every in-service branch with rate_a_mva > 0 and |P| > trip_multiple * rate_a_mva
        trips, all in the same round
    until no branch trips

How it is fast: the base topology is factorised once; the flows with a set ``M`` of
branches out are a Woodbury update of the base-topology flows ``F`` of the current
injections, ``f = F + H[:, M] (I - H[M, M])^+ F[M]``. Scenarios that keep the base
islands share ``F`` (the balanced base case) and are updated together, grouped by
``|M|``, with batched ``numpy.linalg.solve``. A scenario whose outages split an island
(detected by the XOR labels, no graph search) is re-balanced and its ``F`` recomputed
with one multi-right-hand-side solve shared by all such scenarios of the round; the
pseudo-inverse then drops exactly the new islands' null directions, which carry no
flow outside ``M``. Nothing is ever refactorised.

That is the numpy path: the reference the compiled loop is tested against
(``run_cascades(..., compiled=False)``), used for :func:`post_outage_flows` and for any
scenario the compiled loop gives back. :func:`run_cascades` runs every cascade start to
end in compiled code
(:mod:`blackout.study.fastdc._compiled.loop`: the same Woodbury update while few branches are
out, islands split off by a search from the cut and re-balanced on the base factors
(:mod:`blackout.study.fastdc._compiled.split`), then union-find islands, the same balancing sums and an
LDL^T of each round's own topology on the base pattern, factorised for a batch of
scenarios at once), scenarios split between numba's threads; both paths give the same
trips and MW (a test checks).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csc_matrix
from scipy.sparse.linalg import splu

from blackout.study.fastdc._compiled import loop as cascade_kernel
from blackout.study.fastdc.model import DCModel, bbus_matrix, island_slacks

__all__ = ["BatchResult", "run_cascades", "post_outage_flows"]

#: scenarios updated together in one vectorised block (bounds memory: block x nl floats)
BLOCK = 256
#: the compiled loop's scenarios per call are bounded by this many trip slots (S x nl int32)
TRIP_SLOTS = 4_000_000
#: above this many branches out, a cascade's flows come from one sparse solve of its own
#: topology (cheaper than the |M| x |M| pseudo-inverse once |M| is large)
DIRECT_ABOVE = 120


@dataclass
class BatchResult:
    """Outcome of each cascade of a batch.

    initiating : branch positions outaged by the initiating event, per scenario.
    tripped : branch positions tripped by overload, in trip order, per scenario.
    rounds : overload rounds that tripped something.
    load_lost_mw : demand not served at the end (island dark or shed), MW.
    islands : islands at the end (the base case counts as its own number).
    """

    initiating: list[np.ndarray]
    tripped: list[np.ndarray]
    rounds: np.ndarray
    load_lost_mw: np.ndarray
    islands: np.ndarray

    @property
    def lines_out(self) -> np.ndarray:
        """Branches out at the end (initiating + tripped) per scenario."""
        return np.array([a.size + b.size
                         for a, b in zip(self.initiating, self.tripped, strict=True)])

    def to_frame(self) -> pd.DataFrame:
        """The result as a table, one row per outage or cascade."""
        return pd.DataFrame({
            "initiating": [a.tolist() for a in self.initiating],
            "tripped": [a.tolist() for a in self.tripped],
            "lines_out": self.lines_out,
            "rounds": self.rounds,
            "load_lost_mw": self.load_lost_mw,
            "islands": self.islands,
        })

    def to_dict(self) -> dict[str, Any]:
        """The table as lists per column (for JSON)."""
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in self.to_frame().to_dict(orient="list").items()}


class _Islanded:
    """Per-scenario state once its islands differ from the base case."""

    __slots__ = ("gen_p", "load", "p_pu", "labels", "n_islands")

    def __init__(self, gen_p: np.ndarray, load: np.ndarray, p_pu: np.ndarray,
                 labels: np.ndarray) -> None:
        self.gen_p, self.load, self.p_pu, self.labels = gen_p, load, p_pu, labels
        self.n_islands = int(labels.max()) + 1


def run_cascades(model: DCModel, initiating: Sequence[Sequence[int]], *,
                 trip_multiple: float = 1.0, max_rounds: int = 1000,
                 compiled: bool = True) -> BatchResult:
    """Run one DC overload cascade per initiating outage set (branch positions).

    Returns a :class:`BatchResult`; every trip and every MW follows the rule in the
    module docstring, with limits ``trip_multiple * rate_a_mva`` (branches without a
    rating never trip). ``compiled``: the compiled loop (default) or the numpy
    reference path (False, what the tests hold the loop to); the results are the same.
    """
    limit_pu = np.where(model.rate_mva > 0, trip_multiple * model.rate_mva / model.base_mva,
                        np.inf)
    if compiled:
        return _run_compiled(model, initiating, limit_pu, max_rounds)
    return _run_numpy(model, initiating, limit_pu, max_rounds)


def _initiating_sets(initiating: Sequence[Sequence[int]], nl: int
                     ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """(sorted unique set per scenario, CSR pointers, flat branch positions)."""
    n = len(initiating)
    if n and len({len(o) for o in initiating}) == 1:  # the usual case (N-k sets): 2-D
        arr = np.sort(np.asarray(initiating, dtype=np.int64).reshape(n, -1), axis=1)
        init = list(arr)
        if arr.shape[1] > 1:
            for s in np.flatnonzero((arr[:, 1:] == arr[:, :-1]).any(axis=1)).tolist():
                init[s] = np.unique(arr[s])
    else:
        init = [np.unique(np.asarray(o, dtype=np.int64)) for o in initiating]
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([a.size for a in init])
    flat = np.concatenate(init) if ptr[-1] else np.zeros(0, dtype=np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= nl):
        raise IndexError(f"initiating branch positions must lie in [0, {nl})")
    return init, ptr, np.ascontiguousarray(flat, dtype=np.int64)


def _run_compiled(model: DCModel, initiating: Sequence[Sequence[int]], limit_pu: np.ndarray,
                  max_rounds: int) -> BatchResult:
    """:func:`run_cascades` on the compiled loop, in blocks of scenarios."""
    n, nl = len(initiating), model.n_branch
    init, ptr, flat = _initiating_sets(initiating, nl)
    plan = cascade_kernel.plan_of(model)
    tripped: list[np.ndarray] = []
    rounds = np.zeros(n, dtype=np.int64)
    lost = np.zeros(n)
    islands = np.zeros(n, dtype=np.int64)
    failed: list[int] = []
    step = max(1, TRIP_SLOTS // max(nl, 1))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        p = ptr[lo:hi + 1]
        trips, n_trips, r, ll, isl, ok = cascade_kernel.run_block(
            plan, p - p[0], flat[p[0]:p[-1]], limit_pu, max_rounds)
        rounds[lo:hi], lost[lo:hi], islands[lo:hi] = r, ll, isl
        every = trips[np.arange(nl)[None, :] < n_trips[:, None]].astype(np.int64)
        tripped.extend(np.split(every, np.cumsum(n_trips)[:-1]))
        failed.extend((lo + np.flatnonzero(~ok)).tolist())
    if failed:  # a zero pivot (negative susceptances): the numpy path for those
        again = _run_numpy(model, [init[s].tolist() for s in failed], limit_pu, max_rounds)
        for j, s in enumerate(failed):
            tripped[s] = again.tripped[j]
            rounds[s], lost[s] = again.rounds[j], again.load_lost_mw[j]
            islands[s] = again.islands[j]
    return BatchResult(init, tripped, rounds, lost, islands)


def _run_numpy(model: DCModel, initiating: Sequence[Sequence[int]], limit_pu: np.ndarray,
               max_rounds: int) -> BatchResult:
    """:func:`run_cascades` on the numpy path (Woodbury updates, see the module docstring)."""
    n = len(initiating)
    outs = [np.unique(np.asarray(o, dtype=np.int64)) for o in initiating]
    init = [o.copy() for o in outs]
    trips: list[list[int]] = [[] for _ in range(n)]
    rounds = np.zeros(n, dtype=np.int64)
    isl: dict[int, _Islanded] = {}
    active = np.arange(n)
    for _ in range(max_rounds + 1):
        if active.size == 0:
            break
        _update_islands(model, active, outs, isl)
        still: list[int] = []
        for s, new in _overloads(model, active, outs, isl, limit_pu):
            if new.size:
                outs[s] = np.union1d(outs[s], new)
                trips[s].extend(new.tolist())
                rounds[s] += 1
                still.append(s)
        active = np.array(sorted(still), dtype=np.int64)
    base_load = float(model.load_bus_mw.sum())
    lost = np.array([base_load - (isl[s].load.sum() if s in isl else model.load0_bus_mw.sum())
                     for s in range(n)])
    islands = np.array([isl[s].n_islands if s in isl else model.base_islands for s in range(n)])
    return BatchResult(init, [np.array(t, dtype=np.int64) for t in trips], rounds, lost, islands)


def _update_islands(model: DCModel, active: np.ndarray, outs: list[np.ndarray],
                    isl: dict[int, _Islanded]) -> None:
    """Re-balance the scenarios whose islands changed, recomputing their base-topology
    injections together."""
    for s in active.tolist():
        prev = isl[s].n_islands if s in isl else model.base_islands
        if model.base_islands + model.new_islands(outs[s]) == prev:
            continue
        mask = np.zeros(model.n_branch, dtype=bool)
        mask[outs[s]] = True
        labels = model.island_labels(mask)
        isl[s] = _Islanded(*model.balance(labels), labels)


def _overloads(model: DCModel, active: np.ndarray, outs: list[np.ndarray],
               isl: dict[int, _Islanded], limit_pu: np.ndarray
               ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (scenario, newly overloaded branches) for every active scenario."""
    plain = [s for s in active.tolist() if s not in isl]
    split = [s for s in active.tolist() if s in isl]
    by_size: dict[int, list[int]] = {}
    for s in plain:
        by_size.setdefault(outs[s].size, []).append(s)
    for k, group in by_size.items():
        for lo in range(0, len(group), BLOCK):
            block = group[lo:lo + BLOCK]
            m = np.stack([outs[s] for s in block])  # (S, k)
            flows = _plain_flows(model, m, k)
            over = np.abs(flows) > limit_pu[None, :]
            over[np.arange(len(block))[:, None], m] = False
            for j, s in enumerate(block):
                yield s, np.flatnonzero(over[j])
    for lo in range(0, len(split), BLOCK):
        block = split[lo:lo + BLOCK]
        p = np.stack([isl[s].p_pu for s in block], axis=1)
        base = model.base_flows(p)  # nl x S
        for j, s in enumerate(block):
            f = _compensate(model, base[:, j], outs[s], isl[s])
            over = np.abs(f) > limit_pu
            over[outs[s]] = False
            yield s, np.flatnonzero(over)


def _plain_flows(model: DCModel, m: np.ndarray, k: int) -> np.ndarray:
    """Post-outage flows (S x nl, pu) for outage sets ``m`` (S x k) that keep the base islands."""
    f0 = model.f0_pu
    if k == 0:
        return np.broadcast_to(f0, (m.shape[0], f0.size))
    ht = model.ht_rows(m.ravel()).reshape(m.shape[0], k, -1)  # (S, k, nl)
    hmm = np.take_along_axis(ht, np.broadcast_to(m[:, None, :], (m.shape[0], k, k)), axis=2)
    a = np.eye(k)[None] - hmm.transpose(0, 2, 1)  # H[m_i, m_j]
    c = np.linalg.solve(a, f0[m][..., None])[..., 0]  # (S, k)
    flows: np.ndarray = f0[None, :] + np.einsum("sk,skl->sl", c, ht)
    flows[np.arange(m.shape[0])[:, None], m] = 0.0
    return flows


def _compensate(model: DCModel, base_pu: np.ndarray, out: np.ndarray, st: _Islanded
                ) -> np.ndarray:
    """Post-outage flows (pu) of one islanded scenario from its base-topology flows."""
    out = out[model.live[out]]
    if out.size > DIRECT_ABOVE:
        return _direct(model, out, st)
    f = base_pu.copy()
    nullity = st.n_islands - model.base_islands
    rank = out.size - nullity
    if out.size and rank > 0:  # rank 0 (every outage a new split): nothing to compensate
        ht = model.ht_rows(out)  # (k, nl)
        a = np.eye(out.size) - ht[:, out].T
        u, sv, vt = np.linalg.svd(a)
        c = vt[:rank].T @ ((u[:, :rank].T @ base_pu[out]) / sv[:rank])
        f += ht.T @ c
    f[out] = 0.0
    energised = np.zeros(st.n_islands, dtype=bool)
    energised[st.labels[model.gen_bus[model.gen_on]]] = True
    dead = ~energised[st.labels]  # buses of islands without generation carry no flow
    f[dead[model.f_bus] | dead[model.t_bus]] = 0.0
    return f


def _direct(model: DCModel, out: np.ndarray, st: _Islanded) -> np.ndarray:
    """Flows (pu) of one scenario solved on its own topology (large outage sets)."""
    on = model.live.copy()
    on[out] = False
    nb = model.bus_in.size
    energised = np.zeros(st.n_islands, dtype=bool)
    energised[st.labels[model.gen_bus[model.gen_on]]] = True
    slack = island_slacks(st.labels, st.n_islands, model.ref_gen_bus, model.gen_bus, model.gen_by_pmax)
    first = np.unique(st.labels, return_index=True)[1]
    refs = np.where(slack >= 0, slack, first)
    keep = np.setdiff1d(np.arange(nb), refs)
    f_b, t_b = model.f_bus[on], model.t_bus[on]
    bb = bbus_matrix(nb, f_b, t_b, model.b_pu[on])
    pf = np.where(on, model.pfinj_pu, 0.0)
    pbus = np.bincount(model.f_bus, weights=pf, minlength=nb) - np.bincount(
        model.t_bus, weights=pf, minlength=nb)
    theta = np.zeros(nb)
    if keep.size:
        lu = splu(csc_matrix(bb[keep][:, keep]), permc_spec="MMD_AT_PLUS_A",
                  options={"SymmetricMode": True}, diag_pivot_thresh=0.0)
        theta[keep] = lu.solve((st.p_pu - pbus)[keep])
    f = np.where(on, model.b_pu * (theta[model.f_bus] - theta[model.t_bus]) + pf, 0.0)
    dead = ~energised[st.labels]
    f[dead[model.f_bus] | dead[model.t_bus]] = 0.0
    return f


def post_outage_flows(model: DCModel, outages: Sequence[Sequence[int]]) -> np.ndarray:
    """DC branch flows (MW, S x nl) after each outage set, islands balanced by the model's
    rule, no cascade. Outaged branches carry 0."""
    return post_outage(model, outages)[0] * model.base_mva


def post_outage(model: DCModel, outages: Sequence[Sequence[int]]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(flows pu S x nl, load lost MW per outage set by the islanding alone)."""
    out = np.empty((len(outages), model.n_branch))
    outs = [np.unique(np.asarray(o, dtype=np.int64)) for o in outages]
    isl: dict[int, _Islanded] = {}
    _update_islands(model, np.arange(len(outs)), outs, isl)
    split = [s for s in range(len(outs)) if s in isl]
    for lo in range(0, len(split), BLOCK):
        block = split[lo:lo + BLOCK]
        base = model.base_flows(np.stack([isl[s].p_pu for s in block], axis=1))
        for j, s in enumerate(block):
            out[s] = _compensate(model, base[:, j], outs[s], isl[s])
    for s, o in enumerate(outs):
        if s not in isl:
            out[s] = _plain_flows(model, o[None, :], o.size)[0]
    base_load = float(model.load_bus_mw.sum())
    lost = np.array([base_load - (isl[s].load.sum() if s in isl else model.load0_bus_mw.sum())
                     for s in range(len(outs))])
    return out, lost
