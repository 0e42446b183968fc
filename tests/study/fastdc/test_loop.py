"""The compiled cascade loop against the numpy path of the fast engine (same rule)."""

from __future__ import annotations

import numpy as np
import pytest

from blackout.study.fastdc.engine import BatchResult, run_cascades
from blackout.study.fastdc.model import DCModel

LOAD_MW_TOL = 1e-6


def _sets(model: DCModel, n: int, k: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    live = np.flatnonzero(model.live)
    return [rng.choice(live, k, replace=False).tolist() for _ in range(n)]


def _same(a: BatchResult, b: BatchResult) -> None:
    assert len(a.tripped) == len(b.tripped)
    for s in range(len(a.tripped)):
        assert a.initiating[s].tolist() == b.initiating[s].tolist(), s
        assert a.tripped[s].tolist() == b.tripped[s].tolist(), s  # same trips, same order
    np.testing.assert_array_equal(a.rounds, b.rounds)
    np.testing.assert_array_equal(a.islands, b.islands)
    np.testing.assert_allclose(a.load_lost_mw, b.load_lost_mw, rtol=0, atol=LOAD_MW_TOL)


@pytest.mark.parametrize(("fixture", "n", "k", "mult"), [
    ("case118", 300, 2, 1.0), ("case118", 150, 3, 1.2), ("case118", 150, 1, 0.8),
    ("case2869", 25, 2, 1.0)])
def test_compiled_equals_numpy_path(request: pytest.FixtureRequest, fixture: str, n: int,
                                    k: int, mult: float) -> None:
    model: DCModel = request.getfixturevalue(fixture)
    sets = _sets(model, n, k, seed=11 + k)
    fast = run_cascades(model, sets, trip_multiple=mult)
    assert (fast.islands > model.base_islands).any() and (fast.rounds > 0).any()
    _same(fast, run_cascades(model, sets, trip_multiple=mult, compiled=False))


def test_ragged_duplicate_and_empty_sets(case118: DCModel) -> None:
    live = np.flatnonzero(case118.live)
    sets: list[list[int]] = [[], [int(live[3]), int(live[3])], [int(live[5])],
                             [int(b) for b in live[10:14]], [int(live[7]), int(live[2])]]
    fast = run_cascades(case118, sets)
    _same(fast, run_cascades(case118, sets, compiled=False))
    assert fast.initiating[1].tolist() == [int(live[3])]
    assert fast.initiating[4].tolist() == sorted([int(live[7]), int(live[2])])
    assert run_cascades(case118, []).rounds.size == 0
    with pytest.raises(IndexError):
        run_cascades(case118, [[case118.n_branch]])


def test_max_rounds_and_threads(case118: DCModel) -> None:
    import numba

    sets = _sets(case118, 200, 2, seed=5)
    _same(run_cascades(case118, sets, max_rounds=1),
          run_cascades(case118, sets, max_rounds=1, compiled=False))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = run_cascades(case118, sets)
    finally:
        numba.set_num_threads(before)
    _same(one, run_cascades(case118, sets))


def test_batching_does_not_change_results(case118: DCModel,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from blackout.study.fastdc._compiled import loop as cascade_kernel
    sets = _sets(case118, 120, 2, seed=9)
    batched = run_cascades(case118, sets)
    monkeypatch.setattr(cascade_kernel, "BATCH", 1)
    alone = run_cascades(case118, sets)
    _same(batched, alone)
    np.testing.assert_array_equal(batched.load_lost_mw, alone.load_lost_mw)  # bit for bit


def test_flagged_scenarios_rerun_on_numpy_path(case118: DCModel,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from blackout.study.fastdc._compiled import loop as cascade_kernel
    real = cascade_kernel.run_block

    def flag_odd(*args: object, **kwargs: object) -> tuple[np.ndarray, ...]:
        out = real(*args, **kwargs)  # type: ignore[arg-type]
        out[5][1::2] = False  # as if a zero pivot had stopped every other scenario
        return out

    sets = _sets(case118, 40, 2, seed=3)
    monkeypatch.setattr(cascade_kernel, "run_block", flag_odd)
    _same(run_cascades(case118, sets), run_cascades(case118, sets, compiled=False))



def test_dark_phase_shifters_never_trip(case2869: DCModel) -> None:
    """A dark island carries nothing, but the flow formula gives a phase shifter there its
    shift: with limits just below the shifts, only the dark-island skip of the islanded
    rounds' flows-and-check pass keeps them in service, as on the numpy path."""
    from blackout.study.fastdc.engine import _run_compiled, _run_numpy
    from blackout.study.fastdc.plan import plan_of

    shifters = plan_of(case2869).shifters
    limit = np.where(case2869.rate_mva > 0, case2869.rate_mva / case2869.base_mva, np.inf)
    limit[shifters] = 0.99 * np.abs(case2869.pfinj_pu[shifters])
    sets = _sets(case2869, 25, 2, seed=4)
    fast = _run_compiled(case2869, sets, limit, 1000)
    _same(fast, _run_numpy(case2869, sets, limit, 1000))


def test_mostly_dark_cascades_equal_numpy_path(case118: DCModel) -> None:
    """Low limits: most of the grid goes dark and splits into many islands (the final
    count includes the dark ones), the same as on the numpy path."""
    sets = _sets(case118, 80, 2, seed=21)
    fast = run_cascades(case118, sets, trip_multiple=0.6)
    assert np.median(fast.islands) > 20  # a mostly dark end: many islands
    _same(fast, run_cascades(case118, sets, trip_multiple=0.6, compiled=False))
