"""Islands inside the compiled loop's Woodbury path (study/fastdc/_compiled/split.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from blackout.study.fastdc.engine import BatchResult, run_cascades
from blackout.study.fastdc.model import DCModel

from ..conftest import rated

LOAD_MW_TOL = 1e-6


@pytest.fixture(scope="module")
def mild2869() -> DCModel:
    """case2869pegase rated 2 x base flow: most cascades stay small, many start with a
    bridge out, so they split islands on the Woodbury path."""
    return DCModel.build(rated("case2869pegase", 2.0, 31.7))


def _same(a: BatchResult, b: BatchResult) -> None:
    for s in range(len(a.tripped)):
        assert a.tripped[s].tolist() == b.tripped[s].tolist(), s
    np.testing.assert_array_equal(a.rounds, b.rounds)
    np.testing.assert_array_equal(a.islands, b.islands)
    np.testing.assert_allclose(a.load_lost_mw, b.load_lost_mw, rtol=0, atol=LOAD_MW_TOL)


def _with_bridge(model: DCModel, n: int, seed: int) -> list[list[int]]:
    """N-2 sets of one bridge and one other live branch."""
    rng = np.random.default_rng(seed)
    live = np.flatnonzero(model.live)
    bridges = live[model.xor_label[live] == 0]
    return [sorted({int(rng.choice(bridges)), int(rng.choice(live))}) for _ in range(n)]


def _plan_swapped(model: DCModel, monkeypatch: pytest.MonkeyPatch, **changes: object) -> None:
    """The model's compiled-loop plan, built with the split path on whatever the grid's size,
    with ``changes``."""
    from blackout.study.fastdc import plan as cascade_plan
    monkeypatch.setattr(cascade_plan, "SPLIT_MIN_BUSES", 0)
    plan = cascade_plan._build_plan(model)
    assert plan.base_d.size == plan.pos.size
    monkeypatch.setattr(model, "cascade_plan", replace(plan, **changes))


def test_split_path_equals_union_find_path_and_numpy(mild2869: DCModel,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sets = _with_bridge(mild2869, 150, seed=3)
    fast = run_cascades(mild2869, sets)
    assert (fast.islands > mild2869.base_islands).all()
    assert (fast.rounds > 0).sum() >= 10  # some of them cascade on
    _same(fast, run_cascades(mild2869, sets, compiled=False))
    _plan_swapped(mild2869, monkeypatch, base_lx=np.zeros(0), base_d=np.zeros(0))
    _same(fast, run_cascades(mild2869, sets))  # every split through union-find + LDL^T


def test_small_grids_split_on_the_sparse_path(case118: DCModel,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """case118 is below SPLIT_MIN_BUSES (no base factors): the same answers with the split
    path forced on."""
    from blackout.study.fastdc.plan import plan_of

    assert plan_of(case118).base_d.size == 0
    sets = _with_bridge(case118, 200, seed=2)
    default = run_cascades(case118, sets)
    _plan_swapped(case118, monkeypatch)
    _same(run_cascades(case118, sets), default)


def test_label_collisions_fall_back(case118: DCModel, monkeypatch: pytest.MonkeyPatch) -> None:
    """With every label zero each outage looks like a cut: the search finds most ends
    still connected and the slot leaves the Woodbury path; the answers do not change."""
    rng = np.random.default_rng(8)
    live = np.flatnonzero(case118.live)
    sets = [rng.choice(live, 2, replace=False).tolist() for _ in range(120)]
    expected = run_cascades(case118, sets, compiled=False)
    _plan_swapped(case118, monkeypatch, xor=np.zeros_like(case118.xor_label))
    _same(run_cascades(case118, sets), expected)


def test_cut_labels_the_smaller_side(case118: DCModel) -> None:
    from blackout.study.fastdc._compiled.islands import new_work
    from blackout.study.fastdc._compiled.loop import _start
    from blackout.study.fastdc._compiled.split import cut_of
    from blackout.study.fastdc.plan import plan_of

    plan = plan_of(case118)
    nb, nl = plan.pos.size, plan.f_bus.size
    live = np.flatnonzero(plan.live)
    ws = new_work(nb, nl, plan.abr.size, plan.gen_bus.size)
    for br in live[plan.xor[live] == 0][:10]:
        _start(ws, 0, np.array([0, 0]), np.zeros(0, dtype=np.int64), plan.grid(), plan.base(),
               plan.kw, plan.base_islands, plan.base_served_mw)
        ws[3][br] = True
        res = cut_of(ws, plan.grid(), int(br), 7, nb)[0]
        on = live[live != br]
        adj = coo_matrix((np.ones(on.size), (plan.f_bus[on], plan.t_bus[on])), shape=(nb, nb))
        comp = connected_components(adj, directed=False)[1]
        a, b = comp[plan.f_bus[br]], comp[plan.t_bus[br]]
        small = a if (comp == a).sum() <= (comp == b).sum() else b
        side = np.flatnonzero(comp == small)
        np.testing.assert_array_equal(np.flatnonzero(ws[1][1] == 7), side)
        assert not ws[14][0].any()  # the search leaves no marks behind
        inert = (case118.load_bus_mw[side] == 0).all() and (case118.gs_mw[side] == 0).all() \
            and not np.isin(side, case118.gen_bus[case118.gen_on]).any()
        assert res == (3 if inert else 1)
        if inert:  # dark at once: its buses grounded, its island dead
            assert ws[2][0][plan.pos[side]].all() and ws[2][1][7]
    inner = int(live[plan.xor[live] != 0][0])  # its ends stay connected: no split
    ws[3][inner] = True
    before = ws[1][1].copy()
    assert cut_of(ws, plan.grid(), inner, 9, nb)[0] == 0
    assert cut_of(ws, plan.grid(), inner, 9, -1)[0] == -1  # out of budget
    np.testing.assert_array_equal(ws[1][1], before)
    assert not ws[14][0].any()


@pytest.mark.parametrize("search", [0, 2, 10_000])
def test_search_past_the_woodbury_path_does_not_change_results(
        mild2869: DCModel, search: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the Woodbury path a round's islands come from searches (when it has at most
    SEARCH_TRIPS trips) or union-find: never, rarely and always searching agree with the
    numpy path."""
    from blackout.study.fastdc._compiled import loop as cascade_kernel
    rng = np.random.default_rng(12)
    live = np.flatnonzero(mild2869.live)
    sets = [rng.choice(live, 40, replace=False).tolist() for _ in range(12)]  # past the path
    sets += _with_bridge(mild2869, 40, seed=13)
    expected = run_cascades(mild2869, sets, compiled=False)
    assert (expected.rounds > 2).sum() >= 5
    monkeypatch.setattr(cascade_kernel, "SEARCH_TRIPS", search)
    _same(run_cascades(mild2869, sets), expected)


def test_shift_base_equals_base_flows(case118: DCModel,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from blackout.study.fastdc._compiled.islands import new_work
    from blackout.study.fastdc._compiled.split import shift_base
    from blackout.study.fastdc.plan import plan_of

    _plan_swapped(case118, monkeypatch)
    plan = plan_of(case118)
    ws = new_work(plan.pos.size, plan.f_bus.size, plan.abr.size, plan.gen_bus.size)
    rng = np.random.default_rng(1)
    p = case118.p0_pu + rng.normal(0, 0.05, case118.p0_pu.size)
    p -= p.mean()  # one base island: balanced
    ws[0][5][:] = p
    shift_base(ws, plan.grid(), plan.base())
    np.testing.assert_allclose(ws[15], case118.base_flows(p[:, None])[:, 0], rtol=0, atol=1e-10)
