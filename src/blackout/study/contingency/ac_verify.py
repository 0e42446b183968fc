"""AC verification of single-branch outages in batches.

One full :func:`blackout.flow.run_ac` per outage repeats, for every outage, the KLU
symbolic analysis and a flat start. Here the largest energised island of the base case
is solved once, and its outages from that solution:

- outages that keep the island connected: first a fast-decoupled power flow on the base
  case's B'/B'' factors with the outage as a rank-2 correction
  (:mod:`blackout.study.contingency.fdpf`, no refactorisation per outage, same mismatch equations
  and tolerance as Newton-Raphson);
- the rest (bridges), and any it does not converge on within ``FDPF_MAX_IT`` iterations:
  lightsim2grid's C++ contingency analysis (ContingencyAnalysisCPP), loaded from the same
  LSGrid :func:`run_ac` uses (:mod:`blackout.flow.lsgrid`): it removes each branch from
  the admittance matrix, keeps the symbolic factorisation, starts Newton-Raphson from the
  base solution (chord iterations: the Jacobian factorised once per outage) and runs on
  several threads.

Branch flows (MVA at both ends) are then computed from the voltages with our own Yf/Yt,
exactly as :func:`run_ac` does.

Our island semantics are kept:

- an outage that cuts off a part (a bridge, found by one depth-first search from the
  slack): lightsim2grid solves the slack's side (``handle_disconnected_grid``, no slack
  redistribution; we check that it left exactly the cut-off part at 0 V); a part without
  generation is dark, a part with generation is its own island with its own slack and is
  solved alone (:func:`run_ac` of just its buses);
- an outage outside the main island, one whose cut-off part is not the smaller side, or
  one lightsim2grid does not converge on: one full :func:`run_ac` (flat start, DC retry);
- branches of other base-case islands keep their base-case loading (an outage in the
  main island does not change them).

Newton-Raphson from the base solution converges to the same (high-voltage) solution as
from a flat start, to the same tolerance (tested against one full ``run_ac`` per outage).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from blackout.flow import run_ac
from blackout.flow.ac import _island_setup, _main_island
from blackout.flow.dc import island_plan
from blackout.flow.lsgrid import IslandSetup, ls_model
from blackout.flow.network import Network, admittance, build_network, cached
from blackout.flow.result import PowerFlowResult
from blackout.flow.state import FlowState
from blackout.grid.model import Grid
from blackout.grid.topology import extract_buses
from blackout.study.contingency import fdpf as ac_fdpf
from blackout.study.fastdc._compiled import linalg as kernels

__all__ = ["OutageAC", "verify_outages"]

#: fast-decoupled iterations (a P and a Q half each) before an outage goes to lightsim2grid.
#: Kept short on purpose: an outage that converges slowly may be heading for another
#: solution of the AC equations than Newton-Raphson finds (case9241pegase, AC-sized
#: ratings: branch 8318 converged in 38 iterations to one with worst loading 580 %, where
#: run_ac finds 319 %); 99 % of that case's outages converge within 17
FDPF_MAX_IT = 20


@dataclass
class OutageAC:
    """Per verified outage (same order as the ``branches`` asked for).

    max_loading_pct : worst branch loading, % of rate_a (0 where unrated or dark).
    overloads : branches above 100 %. converged : every energised island converged.
    full_run_ac : True where one full :func:`run_ac` was needed (see module docstring).
    base_overloads : branches above 100 % in the base case itself (in every outage's
    ``overloads`` unless the outage relieves them). fast_decoupled : True where the
    fast-decoupled solve (:mod:`blackout.study.contingency.fdpf`) gave the answer.
    new_violations, worsened_violations, max_caused_loading_pct : as in
    :func:`blackout.study.contingency.n1.screen_n1`, against the AC base case (a base-case
    violation counts when its loading rises by more than ``worsened_threshold``).
    """

    max_loading_pct: np.ndarray
    overloads: np.ndarray
    converged: np.ndarray
    full_run_ac: np.ndarray
    base_overloads: int = 0
    fast_decoupled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    new_violations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    worsened_violations: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64))
    max_caused_loading_pct: np.ndarray = field(default_factory=lambda: np.zeros(0))


def verify_outages(grid: Grid, branches: np.ndarray, *, threads: int | None = None,
                   batch: int = 256, tolerance_mva: float = 1e-8, max_iteration: int = 100,
                   progress: Callable[[int, int], None] | None = None,
                   fast_decoupled: bool = True, worsened_threshold: float = 0.1) -> OutageAC:
    """AC power flow of the base case of ``grid`` with each branch of ``branches`` (positions)
    out, one at a time: worst loading, overload count and convergence per outage.

    threads : OS threads of lightsim2grid's contingency analysis (default: all cores);
    the results do not depend on it. batch : outages per C++ call (memory: batch x buses
    complex voltages, and batch x branches flows). max_iteration : for the batch's chord
    iterations (a full :func:`run_ac`, where needed, keeps its own default of 30).
    progress : called as ``progress(done, total)`` after each batch and each full run_ac
    (``done``: outages with their final answer). fast_decoupled : outages that keep the
    main island connected go first to :mod:`blackout.study.contingency.fdpf` (False: all to
    lightsim2grid); either way the same equations to the same tolerance.
    """
    branches = np.asarray(branches, dtype=np.int64)
    n = branches.size
    state = FlowState.of(grid)
    net = build_network(grid, state)
    base = run_ac(grid, state)
    base_loading = np.nan_to_num(np.asarray(base.branch["loading_percent"], dtype=float))
    out = OutageAC(np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool),
                   np.zeros(n, dtype=bool), int((base_loading > 100.0).sum()),
                   np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64),
                   np.zeros(n, dtype=np.int64), np.zeros(n))
    # per branch: 0 within the rating in the base case, else the worsened threshold (%)
    lim = np.where(base_loading > 100.0, base_loading * (1.0 + worsened_threshold), 0.0)
    if n == 0:
        return out
    plan = island_plan(grid, net)
    main = _main_island(plan)
    fast = np.zeros(n, dtype=bool)
    parts: dict[int, np.ndarray] = {}
    setup = None
    if main >= 0 and base.islands[main].converged:
        buses = plan[main][0]
        ybus, yf, yt = admittance(grid, net)
        setup = cached(grid, net, f"acisl:{buses[0]}:{buses.size}:{hash(net.gen_on.tobytes())}",
                       lambda: _island_setup(grid, net, ybus, buses))
    if setup is not None:
        fast, parts = _batchable(grid, net, main, setup.slack, branches)
    slow = np.flatnonzero(~fast)
    if fast.any():
        assert setup is not None
        _solve_fast(grid, net, base, main, setup, branches, np.flatnonzero(fast), parts, out,
                    lim, threads=threads or os.cpu_count() or 1, batch=batch, tol=tolerance_mva,
                    max_it=max_iteration, yf=yf, yt=yt, progress=progress,
                    decoupled=fast_decoupled)
        slow = np.union1d(slow, np.flatnonzero(fast & ~out.converged))
    for done, i in enumerate(slow):
        if progress is not None:
            progress(n - slow.size + done, n)
        st = FlowState.of(grid)
        st.branch_in[int(branches[i])] = False
        res = run_ac(grid, st, tolerance_mva=tolerance_mva)
        loading = np.nan_to_num(np.asarray(res.branch["loading_percent"], dtype=float))
        out.max_loading_pct[i] = float(loading.max())
        out.overloads[i] = int((loading > 100.0).sum())
        out.new_violations[i], out.worsened_violations[i], out.max_caused_loading_pct[i] = (
            _violations(loading, lim))
        out.converged[i] = bool(res.converged)
        out.full_run_ac[i] = True
    if progress is not None:
        progress(n, n)
    return out


def _batchable(grid: Grid, net: Network, main: int, slack: int, branches: np.ndarray
               ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Outages the batch handles: live branches of the main island whose removal leaves it
    connected or cuts off a part smaller than the slack's side; and per cutting branch the
    buses it cuts off."""
    f = np.asarray(grid.branch["from_bus"])
    t = np.asarray(grid.branch["to_bus"])
    live = np.zeros(grid.branch.n, dtype=bool)
    live[net.live] = True
    in_main = net.labels == main
    ok = live[branches] & in_main[f[branches]]
    edges = net.live[in_main[f[net.live]]]
    cut = _split_off(grid.bus.n, f[edges], t[edges], edges, slack, grid.branch.n)
    size = int(in_main.sum())
    for k in np.flatnonzero(ok):
        part = cut.get(int(branches[k]))
        if part is not None and 2 * part.size >= size:
            ok[k] = False
    return ok, cut


def _split_off(nb: int, f: np.ndarray, t: np.ndarray, ids: np.ndarray, root: int,
               n_branch: int) -> dict[int, np.ndarray]:
    """Bridges of the connected graph (``f``/``t`` per edge, branch ``ids``), found by one
    iterative depth-first search from ``root``: branch id -> buses its removal cuts off from
    ``root`` (a subtree of the search). Parallel branches are not bridges."""
    m = ids.size
    ends = np.concatenate([f, t])
    other = np.concatenate([t, f])
    eid = np.concatenate([np.arange(m), np.arange(m)])
    order = np.argsort(ends, kind="stable")
    start = np.searchsorted(ends[order], np.arange(nb + 1))
    nbr, nbr_e = other[order].tolist(), eid[order].tolist()
    starts = start.tolist()
    pre = [-1] * nb
    low = [0] * nb
    size = [1] * nb
    visit: list[int] = []
    bridges: list[tuple[int, int]] = []  # (edge, child bus)
    pre[root] = low[root] = 0
    visit.append(root)
    stack = [(root, -1, starts[root])]
    counter = 1
    while stack:
        u, pe, pos = stack[-1]
        if pos < starts[u + 1]:
            stack[-1] = (u, pe, pos + 1)
            v, e = nbr[pos], nbr_e[pos]
            if e == pe:
                continue
            if pre[v] < 0:
                pre[v] = low[v] = counter
                counter += 1
                visit.append(v)
                stack.append((v, e, starts[v]))
            elif pre[v] < low[u]:
                low[u] = pre[v]
            continue
        stack.pop()
        if stack:
            p = stack[-1][0]
            size[p] += size[u]
            if low[u] < low[p]:
                low[p] = low[u]
            if low[u] > pre[p]:
                bridges.append((pe, u))
    visit_arr = np.asarray(visit)
    out: dict[int, np.ndarray] = {}
    for e, child in bridges:
        out[int(ids[e])] = visit_arr[pre[child]:pre[child] + size[child]]
    return out


def _solve_fast(grid: Grid, net: Network, base: PowerFlowResult, main: int,
                setup: IslandSetup, branches: np.ndarray, rows: np.ndarray,
                parts: dict[int, np.ndarray], out: OutageAC, lim: np.ndarray, *,
                threads: int, batch: int,
                tol: float, max_it: int, yf: csr_matrix, yt: csr_matrix,
                progress: Callable[[int, int], None] | None = None,
                decoupled: bool = True) -> None:
    """Fill ``out`` at ``rows``: the outages that cut nothing off by the fast-decoupled
    solve (``decoupled``), the rest and those it does not converge on from lightsim2grid's
    contingency analysis of the main island; a row neither converges on (or whose answer is
    not ours) is left unconverged."""
    buses = setup.buses
    f = np.asarray(grid.branch["from_bus"])[net.live]
    t = np.asarray(grid.branch["to_bus"])[net.live]
    rate = np.asarray(grid.branch["rate_a_mva"], dtype=float)[net.live]
    # loading % per MVA at either end (0 where unrated)
    scale = np.where(rate > 0, 100.0 * grid.base_mva / np.where(rate > 0, rate, 1.0), 0.0)
    ends = _terminal_admittances(yf, yt)
    in_main = net.labels == main
    main_rows = in_main[f]
    # other islands: their base-case loading stays
    other = np.nan_to_num(np.asarray(base.branch["loading_percent"], dtype=float))
    other[net.live[main_rows]] = 0.0
    other_max = float(other.max()) if other.size else 0.0
    other_over = int((other > 100.0).sum())
    # other islands keep their base loading: nothing new or worsened there
    other_caused = float(np.where(lim == 0.0, other, 0.0).max()) if other.size else 0.0
    lim_live = np.ascontiguousarray(lim[net.live])
    others_ok = all(i.converged for k, i in enumerate(base.islands) if i.energized and k != main)
    position = np.full(grid.branch.n, -1, dtype=np.int64)
    position[net.live] = np.arange(net.live.size)
    v0 = np.ones(grid.bus.n, dtype=complex)
    v0[buses] = setup.vm0
    has_gen = np.zeros(grid.bus.n, dtype=bool)
    has_gen[np.asarray(grid.gen["bus"])[net.gen_on]] = True
    checks = (ends, f, t, scale, position, other_max, other_over, others_ok, lim_live,
              other_caused)
    asked = rows
    if decoupled:
        rows = _solve_decoupled(grid, net, base, setup, branches, rows, parts, out, checks,
                                batch=batch, tol=tol, progress=progress)
    if rows.size == 0:
        return
    from lightsim2grid.algorithm import NR_KLU, AlgorithmType, RefactorPolicyType
    from lightsim2grid.contingencyAnalysis import ContingencyAnalysisCPP

    model = ls_model(grid)
    with model.lock:
        model.sync(net, buses, setup.slack)
        ca = ContingencyAnalysisCPP(model.model)  # works on its own copy
    ca.change_algorithm(AlgorithmType.NR_KLU)
    # chord iterations (the Jacobian factorised once per outage): more, cheaper iterations
    # to the same tolerance (about 1.4x faster on case9241pegase)
    chord = NR_KLU()
    chord.set_refactor_policy(RefactorPolicyType.Chord)
    ca.set_algo_config(chord.get_config())
    ca.handle_disconnected_grid = True
    ca.redistribute_slack = False
    ca.init_from_n_powerflow = True
    ca.nb_thread = int(max(1, threads))
    cpp_of = model.cpp_branch_id
    for lo in range(0, rows.size, batch):
        chunk = rows[lo:lo + batch]
        ca.clear()
        ca.handle_disconnected_grid = True  # clear() resets it
        ca.add_multiple_n1([int(cpp_of[b]) for b in branches[chunk]])
        ca.compute(v0.copy(), int(max_it), float(tol))
        by_cpp = {int(cpp_of[branches[r]]): r for r in chunk}
        order = [by_cpp[int(d[0])] for d in ca.my_defaults()]
        conv = np.asarray(ca.converged_mask(), dtype=bool)
        vs = np.asarray(ca.get_voltages())
        worst, over, new, worse, caused = _loading(
            vs, ends, f, t, scale, np.asarray([position[branches[r]] for r in order]),
            lim_live)
        for j, r in enumerate(order):
            if not conv[j] or not _dark_as_expected(vs[j], in_main,
                                                     parts.get(int(branches[r]))):
                continue
            out.max_loading_pct[r] = max(float(worst[j]), other_max)
            out.overloads[r] = int(over[j]) + other_over
            out.new_violations[r], out.worsened_violations[r] = new[j], worse[j]
            out.max_caused_loading_pct[r] = max(float(caused[j]), other_caused)
            out.converged[r] = others_ok
            part = parts.get(int(branches[r]))
            if part is not None and has_gen[part].any():
                p_worst, p_over, p_ok, p_loading, p_branches = _alone(grid, part)
                out.max_loading_pct[r] = max(out.max_loading_pct[r], p_worst)
                out.overloads[r] += p_over
                p_new, p_worse, p_caused = _violations(p_loading, lim[p_branches])
                out.new_violations[r] += p_new
                out.worsened_violations[r] += p_worse
                out.max_caused_loading_pct[r] = max(out.max_caused_loading_pct[r], p_caused)
                out.converged[r] &= p_ok
        if progress is not None:
            progress(int(out.converged[asked].sum()), branches.size)


def _solve_decoupled(grid: Grid, net: Network, base: PowerFlowResult, setup: IslandSetup,
                     branches: np.ndarray, rows: np.ndarray, parts: dict[int, np.ndarray],
                     out: OutageAC, checks: tuple[Any, ...], *, batch: int, tol: float,
                     progress: Callable[[int, int], None] | None) -> np.ndarray:
    """Fill ``out`` at the ``rows`` whose outage keeps the main island connected, by the
    fast-decoupled solve on the base factors (:mod:`blackout.study.contingency.fdpf`); returns the
    rows left for lightsim2grid (bridges, self-loops, not converged within
    ``FDPF_MAX_IT`` iterations, or B'/B'' singular)."""
    ends, f, t, scale, position, other_max, other_over, others_ok, lim_live, other_caused = \
        checks
    buses = setup.buses
    in_main = np.zeros(grid.bus.n, dtype=bool)
    in_main[buses] = True
    isl_rows = np.flatnonzero(in_main[f])  # the main island's live branches (net.live positions)
    at = np.full(f.size, -1, dtype=np.int64)
    at[isl_rows] = np.arange(isl_rows.size)
    pos = position[branches[rows]]
    ok = (pos >= 0) & np.array([int(b) not in parts for b in branches[rows]], dtype=bool)
    ok &= at[np.maximum(pos, 0)] >= 0
    ok &= f[np.maximum(pos, 0)] != t[np.maximum(pos, 0)]
    if not ok.any():
        return rows
    vm = np.asarray(base.bus["vm_pu"], dtype=float)[buses]
    va = np.deg2rad(np.asarray(base.bus["va_degree"], dtype=float))[buses]
    sbus = (net.p_inj_mw[buses] + 1j * net.q_inj_mvar[buses]) / grid.base_mva
    isl = ac_fdpf.decoupled_island(grid.base_mva, net.bus, net.branch, buses, isl_rows,
                                   setup.ref, setup.pv, setup.pq, sbus, vm * np.exp(1j * va))
    if isl is None:
        return rows
    left = [rows[~ok]]
    todo = rows[ok]
    for lo in range(0, todo.size, batch):
        chunk = todo[lo:lo + batch]
        skip = position[branches[chunk]]
        v, conv, _ = ac_fdpf.solve_outages(isl, at[skip], tol=tol, max_it=FDPF_MAX_IT)
        vs = np.zeros((chunk.size, grid.bus.n), dtype=complex)
        vs[:, buses] = v
        worst, over, new, worse, caused = _loading(vs, ends, f, t, scale, skip, lim_live)
        done = chunk[conv]
        out.max_loading_pct[done] = np.maximum(worst[conv], other_max)
        out.overloads[done] = over[conv] + other_over
        out.new_violations[done], out.worsened_violations[done] = new[conv], worse[conv]
        out.max_caused_loading_pct[done] = np.maximum(caused[conv], other_caused)
        out.converged[done] = others_ok
        out.fast_decoupled[done] = True
        left.append(chunk[~conv])
        if progress is not None:
            progress(int(out.converged[rows].sum()), branches.size)
    return np.sort(np.concatenate(left))


def _terminal_admittances(yf: csr_matrix, yt: csr_matrix) -> tuple[Any, ...]:
    """Yf and Yt as the loading pass wants them, made once per verification: the CSR
    arrays of the compiled pass."""
    yf, yt = csr_matrix(yf), csr_matrix(yt)
    return (yf.indptr.astype(np.int64), yf.indices.astype(np.int64), yf.data.astype(complex),
            yt.indptr.astype(np.int64), yt.indices.astype(np.int64), yt.data.astype(complex))


def _violations(loading: np.ndarray, lim: np.ndarray) -> tuple[int, int, float]:
    """(new violations, worsened violations, worst loading they cause) of one outage from
    its loading per branch (%) and ``lim`` (see :func:`verify_outages`)."""
    new = int(((loading > 100.0) & (lim == 0.0)).sum())
    worse = int(((lim > 0.0) & (loading > lim)).sum())
    caused = np.where((lim == 0.0) | (loading > lim), loading, 0.0)
    return new, worse, float(caused.max(initial=0.0))


def _loading(vs: np.ndarray, ends: tuple[Any, ...], f: np.ndarray, t: np.ndarray,
             scale: np.ndarray, skip: np.ndarray, lim: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row of bus voltages ``vs``: worst branch loading (%) and the count above 100,
    the MVA at both ends from our Yf/Yt (``ends``, from :func:`_terminal_admittances`) as
    :func:`run_ac` computes it; branch ``skip[row]`` (the outaged one) and branches with a
    dead end carry nothing; then new and worsened violations and the worst loading they
    cause (``lim`` per live branch, see :func:`verify_outages`)."""
    fp, fi, fv, tp, ti, tv = ends
    return kernels.ac_loading_stats(np.ascontiguousarray(vs, dtype=complex), fp, fi, fv,
                                    tp, ti, tv, f.astype(np.int64), t.astype(np.int64),
                                    scale, skip.astype(np.int64),
                                    np.ascontiguousarray(lim, dtype=float))


def _alone(grid: Grid, buses: np.ndarray
           ) -> tuple[float, int, bool, np.ndarray, np.ndarray]:
    """A cut-off part with generation, solved as its own island (its own slack): worst
    loading (%), overloads, converged, loading per branch of the part (%) and those
    branches' positions in ``grid`` (:func:`extract_buses` keeps their order). Through the
    per-island solver: a throw-away grid needs no LSGrid."""
    res = run_ac(extract_buses(grid, buses), solver="island")
    loading = np.nan_to_num(np.asarray(res.branch["loading_percent"], dtype=float))
    worst = float(loading.max()) if loading.size else 0.0
    inside = np.zeros(grid.bus.n, dtype=bool)
    inside[buses] = True
    kept = np.flatnonzero(inside[np.asarray(grid.branch["from_bus"])]
                          & inside[np.asarray(grid.branch["to_bus"])])
    return worst, int((loading > 100.0).sum()), bool(res.converged), loading, kept


def _dark_as_expected(v: np.ndarray, in_main: np.ndarray, part: np.ndarray | None) -> bool:
    """lightsim2grid left 0 V exactly on the buses outside the main island and on the part
    the outage cuts off (``part``; None when it cuts nothing off)."""
    dark = v == 0
    if (dark != ~in_main).sum() != (0 if part is None else part.size):
        return False
    return part is None or bool(dark[part].all())
