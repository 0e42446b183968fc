"""The fast-decoupled outage solve: its voltages satisfy the post-outage AC equations, its
Woodbury solves equal a solve of the modified matrix, and verify_outages gives the same
answers with it as with lightsim2grid alone."""

from __future__ import annotations

import numpy as np
import pytest
from pandapower.pypower.makeYbus import makeYbus
from scipy.sparse import csc_matrix
from scipy.sparse.linalg import spsolve

import blackout
from blackout.flow import FlowState, run_ac
from blackout.flow.ac import _island_setup, _main_island
from blackout.flow.dc import island_plan
from blackout.flow.network import admittance, build_network
from blackout.grid.model import Grid
from blackout.grid.ratings import derive_ratings
from blackout.study.contingency import ac_verify as av
from blackout.study.contingency import fdpf as ac_fdpf
from blackout.study.fastdc.model import balanced_grid

TOL = 1e-8


def _rated(case: str) -> Grid:
    return derive_ratings(balanced_grid(blackout.load_case(case)), k=1.3, floor_mva=31.7,
                          override_given=True)


def _island(case: str):  # type: ignore[no-untyped-def]
    grid = blackout.load_case(case)
    state = FlowState.of(grid)
    net = build_network(grid, state)
    base = run_ac(grid, state)
    plan = island_plan(grid, net)
    buses = plan[_main_island(plan)][0]
    ybus, _, _ = admittance(grid, net)
    setup = _island_setup(grid, net, ybus, buses)
    v = (np.asarray(base.bus["vm_pu"]) * np.exp(1j * np.deg2rad(base.bus["va_degree"])))
    sbus = ((net.p_inj_mw + 1j * net.q_inj_mvar) / grid.base_mva)[buses]
    f = np.asarray(grid.branch["from_bus"])[net.live]
    t = np.asarray(grid.branch["to_bus"])[net.live]
    rows = np.flatnonzero(np.isin(f, buses))
    isl = ac_fdpf.decoupled_island(grid.base_mva, net.bus, net.branch, buses, rows,
                                   setup.ref, setup.pv, setup.pq, sbus, v[buses])
    assert isl is not None
    cut = av._split_off(grid.bus.n, f[rows], t[rows], net.live[rows], setup.slack,
                        grid.branch.n)
    keep = [k for k, r in enumerate(rows) if int(net.live[r]) not in cut and f[r] != t[r]]
    return grid, net, buses, rows, setup, sbus, isl, np.asarray(keep, dtype=np.int64)


@pytest.mark.parametrize("case", ["case118", "case2869pegase"])
def test_voltages_solve_the_post_outage_equations(case: str) -> None:
    """Independent check: Ybus of the island rebuilt by makeYbus without the branch; the
    returned voltages meet P at PV/PQ buses and Q at PQ buses to the tolerance."""
    grid, net, buses, rows, setup, sbus, isl, keep = _island(case)
    pick = keep if case == "case118" else keep[::97]
    v, conv, iters = ac_fdpf.solve_outages(isl, pick, tol=TOL, max_it=40)
    assert conv.all()
    assert iters.max() > 1
    local = np.full(grid.bus.n, -1)
    local[buses] = np.arange(buses.size)
    ib = net.bus[buses].copy()
    ib[:, 0] = np.arange(buses.size)
    br = net.branch[rows].copy()
    br[:, 0] = local[br[:, 0].real.astype(int)]
    br[:, 1] = local[br[:, 1].real.astype(int)]
    pvpq = np.sort(np.r_[setup.pv, setup.pq])
    for jj in range(0, pick.size, max(1, pick.size // 25)):
        y = makeYbus(grid.base_mva, ib, np.delete(br, pick[jj], axis=0))[0]
        mis = v[jj] * np.conj(y @ v[jj]) - sbus
        assert np.abs(mis.real[pvpq]).max() < TOL
        assert np.abs(mis.imag[setup.pq]).max() < TOL


def test_woodbury_solve_equals_the_modified_matrix() -> None:
    """The base LU plus the rank-2 correction against spsolve of B'' less the branch's
    block, for every non-bridge branch of case118 with both ends PQ or one."""
    grid, net, buses, rows, setup, sbus, isl, keep = _island("case118")
    from blackout.study.contingency.fdpf_kernel import _batch_solve, _correct
    from blackout.study.contingency.fdpf_kernel import lu_solve as _lu_solve
    from blackout.study.contingency.fdpf_kernel import woodbury_setup as _woodbury_setup

    rng = np.random.default_rng(3)
    for fac, pos, blocks, sel in ((isl.fac_p, isl.pos_p, isl.cp, isl.set_p),
                                  (isl.fac_q, isl.pos_q, isl.cq, isl.set_q)):
        m = sel.size
        base = np.zeros((m, m))
        e, w = np.zeros(m), np.zeros(m)
        for i in range(m):  # the base matrix back from its factors
            e[:] = 0.0
            e[i] = 1.0
            col = np.zeros(m)
            _lu_solve(fac, e, w, col)
            base[:, i] = col
        a = np.linalg.inv(base)
        for k in keep[::3]:
            wc, km = np.zeros((2, m)), np.zeros((2, 2))
            idx = np.zeros(2, dtype=np.int64)
            r = _woodbury_setup(fac, pos, int(isl.f[k]), int(isl.t[k]), blocks[k], wc, km,
                                idx, e, w)
            assert r >= 0
            mod = a.copy()
            ends = [pos[isl.f[k]], pos[isl.t[k]]]
            c = blocks[k].reshape(2, 2)
            for i in range(2):
                for j in range(2):
                    if ends[i] >= 0 and ends[j] >= 0:
                        mod[ends[i], ends[j]] -= c[i, j]
            b = rng.standard_normal(m)
            x = b[:, None].copy()  # one slot through the loop's own batched solve + correction
            _batch_solve(fac, x, np.zeros((m, 1)), np.zeros(1))
            _correct(x, np.array([r]), idx[None], wc[None], km[None], np.ones(1, dtype=bool))
            got = x[:, 0]
            np.testing.assert_allclose(got, spsolve(csc_matrix(mod), b), rtol=1e-8,
                                       atol=1e-10)


@pytest.mark.parametrize("case", ["case118", "case2869pegase"])
def test_verify_outages_same_with_and_without_it(case: str) -> None:
    grid = _rated(case)
    live = np.flatnonzero(grid.branch["in_service"])
    branches = live if case == "case118" else live[::40]
    with_fd = av.verify_outages(grid, branches, batch=64)
    without = av.verify_outages(grid, branches, batch=64, fast_decoupled=False)
    np.testing.assert_array_equal(with_fd.converged, without.converged)
    assert with_fd.fast_decoupled.mean() > 0.8 and not without.fast_decoupled.any()
    ok = with_fd.converged
    np.testing.assert_allclose(with_fd.max_loading_pct[ok], without.max_loading_pct[ok],
                               atol=1e-5)
    np.testing.assert_array_equal(with_fd.overloads[ok], without.overloads[ok])


def test_outages_it_does_not_converge_on_go_to_newton(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """With one iteration allowed nearly every outage is handed back, and the answers are
    still those of one full run_ac per outage."""
    grid = _rated("case118")
    branches = np.flatnonzero(grid.branch["in_service"])[:60]
    isl_solve = ac_fdpf.solve_outages
    handed: list[int] = []

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        v, conv, it = isl_solve(*a, **k)
        handed.append(int((~conv).sum()))
        return v, conv, it

    monkeypatch.setattr(av, "FDPF_MAX_IT", 1)
    monkeypatch.setattr(ac_fdpf, "solve_outages", counting)
    got = av.verify_outages(grid, branches, batch=64)
    assert sum(handed) > 40
    for i, b in enumerate(branches):
        st = FlowState.of(grid)
        st.branch_in[int(b)] = False
        res = run_ac(grid, st)
        loading = np.nan_to_num(np.asarray(res.branch["loading_percent"], dtype=float))
        assert got.converged[i] == res.converged
        assert abs(got.max_loading_pct[i] - loading.max()) < 1e-5
        assert got.overloads[i] == int((loading > 100.0).sum())
