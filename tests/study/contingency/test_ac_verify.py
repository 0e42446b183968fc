"""Batched AC verification of outages equals one full run_ac per outage, islands included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import blackout
from blackout.flow import FlowState, run_ac
from blackout.flow.dc import island_plan
from blackout.flow.network import build_network
from blackout.grid.model import Grid
from blackout.grid.ratings import derive_ratings
from blackout.study.contingency import ac_verify as av
from blackout.study.fastdc.model import balanced_grid


def _rated(case: str) -> Grid:
    return derive_ratings(balanced_grid(blackout.load_case(case)), k=1.3, floor_mva=31.7,
                          override_given=True)


def _full(grid: Grid, branches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    worst, over, conv = [], [], []
    for b in branches:
        st = FlowState.of(grid)
        st.branch_in[int(b)] = False
        res = run_ac(grid, st)
        loading = np.nan_to_num(np.asarray(res.branch["loading_percent"], dtype=float))
        worst.append(loading.max())
        over.append(int((loading > 100.0).sum()))
        conv.append(res.converged)
    return np.array(worst), np.array(over), np.array(conv)


def _check(grid: Grid, branches: np.ndarray) -> av.OutageAC:
    got = av.verify_outages(grid, branches, threads=2, batch=64)
    worst, over, conv = _full(grid, branches)
    np.testing.assert_array_equal(got.converged, conv)
    np.testing.assert_allclose(got.max_loading_pct[conv], worst[conv], atol=1e-5)
    np.testing.assert_array_equal(got.overloads[conv], over[conv])
    return got


def test_case118_every_outage_equals_full_run_ac() -> None:
    grid = _rated("case118")
    got = _check(grid, np.flatnonzero(grid.branch["in_service"]))
    assert not got.full_run_ac.any()  # bridges (dark parts, parts with generation) batched


def test_case2869_sample_and_all_bridges_equal_full_run_ac() -> None:
    grid = _rated("case2869pegase")
    net = build_network(grid, FlowState.of(grid))
    plan = island_plan(grid, net)
    live = np.flatnonzero(grid.branch["in_service"])
    _, parts = av._batchable(grid, net, 0, int(plan[0][1]), live)
    has_gen = np.zeros(grid.bus.n, dtype=bool)
    has_gen[grid.gen["bus"]] = True
    with_gen = [b for b, p in parts.items() if has_gen[p].any()][:15]
    dark = [b for b, p in parts.items() if not has_gen[p].any()][:15]
    branches = np.unique(np.r_[live[::60], with_gen, dark]).astype(np.int64)
    got = _check(grid, branches)
    assert got.full_run_ac.sum() <= 2


@pytest.mark.parametrize("case", ["case118", "case2869pegase"])
def test_bridges_cut_off_exactly_what_connected_components_find(case: str) -> None:
    grid = blackout.load_case(case)
    net = build_network(grid, FlowState.of(grid))
    slack = int(island_plan(grid, net)[0][1])  # type: ignore[arg-type]
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    live = net.live
    parts = av._split_off(grid.bus.n, f[live], t[live], live, slack, grid.branch.n)
    n = grid.bus.n
    for b in live[::3] if case == "case2869pegase" else live:
        keep = live[live != b]
        adj = coo_matrix((np.ones(keep.size), (f[keep], t[keep])), shape=(n, n))
        k, labels = connected_components(adj, directed=False)
        cut = np.flatnonzero(labels != labels[slack])
        if k == 1:
            assert int(b) not in parts
        else:
            np.testing.assert_array_equal(np.sort(parts[int(b)]), cut)


def test_two_base_islands_keep_the_other_islands_loading() -> None:
    """Base case already split in two: outages in the main island are batched, the other
    island keeps its base loading; outages in the other island go through run_ac."""
    grid = _rated("case118")
    side = grid.bus["number"] <= 11
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    in_service = np.array(grid.branch["in_service"]) & ~(side[f] != side[t])
    grid = grid.replace(branch={**dict(grid.branch.items()), "in_service": in_service})
    branches = np.flatnonzero(in_service)
    got = _check(grid, branches)
    assert got.full_run_ac.any() and not got.full_run_ac.all()


def _numpy_loading(vs: np.ndarray, yf: Any, yt: Any, f: np.ndarray, t: np.ndarray,
                   scale: np.ndarray, skip: np.ndarray, lim: np.ndarray
                   ) -> tuple[np.ndarray, ...]:
    """The numpy formula the fused kernel replaces (the reference of the test below)."""
    cur_f = (yf @ vs.T).T  # (rows, branches)
    cur_t = (yt @ vs.T).T
    vm = np.abs(vs)
    vm_f, vm_t = vm[:, f], vm[:, t]
    loading = np.maximum(vm_f * np.abs(cur_f), vm_t * np.abs(cur_t)) * scale
    loading[(vm_f == 0) | (vm_t == 0)] = 0.0
    loading[np.arange(vs.shape[0]), skip] = 0.0
    caused = np.where((lim == 0.0)[None, :] | (loading > lim[None, :]), loading, 0.0)
    return (loading.max(axis=1, initial=0.0), (loading > 100.0).sum(axis=1),
            ((loading > 100.0) & (lim == 0.0)[None, :]).sum(axis=1),
            ((lim > 0.0)[None, :] & (loading > lim[None, :])).sum(axis=1),
            caused.max(axis=1, initial=0.0))


def test_compiled_loading_equals_the_numpy_formula() -> None:
    """The fused kernel (worst loading and overload count per outage from the voltages)
    against the numpy formula it replaces, on perturbed case118 voltages with dead buses
    and unrated branches."""
    from blackout.flow.network import admittance
    grid = _rated("case118")
    net = build_network(grid, FlowState.of(grid))
    _, yf, yt = admittance(grid, net)
    res = run_ac(grid)
    v = (np.asarray(res.bus["vm_pu"], dtype=float)
         * np.exp(1j * np.deg2rad(np.asarray(res.bus["va_degree"], dtype=float))))
    rng = np.random.default_rng(7)
    vs = v[None, :] * (1 + 0.05 * rng.standard_normal((9, v.size)))
    vs[2, 5] = 0.0  # a dark bus
    f = np.asarray(grid.branch["from_bus"])[net.live]
    t = np.asarray(grid.branch["to_bus"])[net.live]
    rate = np.asarray(grid.branch["rate_a_mva"], dtype=float)[net.live]
    rate[::7] = 0.0  # unrated
    scale = np.where(rate > 0, 100.0 * grid.base_mva / np.where(rate > 0, rate, 1.0), 0.0)
    skip = rng.integers(0, f.size, 9)
    lim = np.where(rng.random(f.size) < 0.3, 100.0 * rng.uniform(0.5, 1.2, f.size), 0.0)
    got = av._loading(vs, av._terminal_admittances(yf, yt), f, t, scale, skip, lim)
    ref = _numpy_loading(vs, yf, yt, f, t, scale, skip, lim)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-12)
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_array_equal(got[2], ref[2])  # new violations
    np.testing.assert_array_equal(got[3], ref[3])  # worsened
    np.testing.assert_allclose(got[4], ref[4], rtol=1e-12)  # worst loading they cause
    assert ref[1].sum() > 0 and ref[2].sum() > 0 and ref[3].sum() > 0


def test_progress_is_reported_per_batch_and_ends_at_the_total() -> None:
    """``progress(done, total)``: monotone, one call per batch at least, last call (n, n),
    and the answer does not depend on it being asked for."""
    grid = _rated("case118")
    branches = np.flatnonzero(grid.branch["in_service"])[:100]
    calls: list[tuple[int, int]] = []
    got = av.verify_outages(grid, branches, batch=16,
                            progress=lambda d, t: calls.append((d, t)))
    ref = av.verify_outages(grid, branches, batch=16)
    assert len(calls) >= 100 // 16
    assert calls[-1] == (100, 100)
    assert all(t == 100 for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    np.testing.assert_array_equal(got.max_loading_pct, ref.max_loading_pct)
    np.testing.assert_array_equal(got.overloads, ref.overloads)


def test_progress_bar_draws_on_a_terminal_and_is_silent_otherwise(
        capsys: pytest.CaptureFixture[str]) -> None:
    from blackout.cli.progress import progress_bar

    with progress_bar(False, "AC N-1", "outages") as p:
        assert p is None
    with progress_bar(True, "AC N-1", "outages") as p:
        assert p is not None
        p(3, 10)
        p(10, 10)
    err = capsys.readouterr().err
    assert "AC N-1" in err and "10/10" in err
