"""N-k screening and random-chemistry malignant sets on the fast engine."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blackout.cascade import CascadeSettings, simulate
from blackout.errors import BlackoutError
from blackout.events import Event
from blackout.study.contingency.nk import MalignantResult, random_chemistry, sample_nk, screen_nk
from blackout.study.fastdc.engine import run_cascades
from blackout.study.fastdc.model import DCModel

LOAD_MW_TOL = 1e-6


def _detailed(model: DCModel, outage: list[int], trip_multiple: float
              ) -> tuple[set[int], float]:
    events = [Event(0.0, "branch", int(b), "trip") for b in outage]
    tl = simulate(model.grid, events,
                  settings=CascadeSettings.simple_dc(trip_multiple=trip_multiple))
    tripped = {e.element for e in tl.events if e.cause == "overload" and e.kind == "branch"}
    lost = float(model.load_bus_mw.sum() - tl.served_mw_at(tl.end_time_s).sum())
    return tripped, lost


def test_sample_nk(case118: DCModel) -> None:
    live = np.flatnonzero(case118.live)
    s = sample_nk(case118, 3, 500, seed=1)
    assert s.shape == (500, 3)
    assert (np.diff(s, axis=1) > 0).all() and np.isin(s, live).all()
    assert len({tuple(r) for r in s.tolist()}) == 500
    assert (sample_nk(case118, 3, 500, seed=1) == s).all()
    every = sample_nk(case118, 2, None, exhaustive=True)
    assert every.shape == (math.comb(live.size, 2), 2)
    assert len({tuple(r) for r in every.tolist()}) == every.shape[0]
    dense = sample_nk(case118, 1, live.size, seed=0)  # every single outage, drawn
    assert sorted(dense[:, 0].tolist()) == live.tolist()
    for bad in ({"k": 0, "n": 5}, {"k": live.size + 1, "n": 5}, {"k": 2, "n": 0},
                {"k": 1, "n": live.size + 1}):
        with pytest.raises(BlackoutError):
            sample_nk(case118, bad["k"], bad["n"])
    with pytest.raises(BlackoutError, match="sample"):
        sample_nk(case118, 4, None, exhaustive=True)  # 48 million sets


@pytest.mark.parametrize("mult", [1.0, 1.2])
def test_screen_nk_equals_detailed_simple_dc(case118: DCModel, mult: float) -> None:
    res = screen_nk(case118, 2, sample=60, seed=3, trip_multiple=mult)
    tab = res.table
    assert len(tab) == 60 and res.meta["sets_run"] == 60
    # a few sets: the largest cascade, an islanding one, a quiet one, and two more
    pick = [int(tab["load_lost_mw"].idxmax())]
    isl = tab.index[tab["islands"] > case118.base_islands]
    quiet = tab.index[tab["rounds"] == 0]
    pick += [int(isl[0])] if len(isl) else []
    pick += [int(quiet[0])] if len(quiet) else []
    pick += [0, 1]
    for i in dict.fromkeys(pick):
        row = tab.loc[i]
        tripped, lost = _detailed(case118, row["set"], mult)
        assert set(row["tripped"]) == tripped, row["set"]
        assert abs(row["load_lost_mw"] - lost) <= LOAD_MW_TOL, row["set"]
        assert row["lines_out"] == 2 + len(tripped)
    ranked = res.ranked()
    assert ranked["load_lost_mw"].is_monotonic_decreasing
    d = res.to_dict(top=5)
    assert len(d["sets"]) == 5 and d["k"] == 2 and "ratings" in d
    assert set(d["sets"][0]) == {"set", "names", "lines_out", "tripped", "load_lost_mw",
                                 "islands", "rounds"}


_RC: dict[int, MalignantResult] = {}


def _rc(model: DCModel, seed: int) -> MalignantResult:
    if seed not in _RC:
        _RC[seed] = random_chemistry(model, k=3, trials=4, seed=seed, trip_multiple=1.2,
                                     exclude_malignant_singles=True)
    return _RC[seed]


def test_random_chemistry_finds_minimal_malignant_sets(case118: DCModel) -> None:
    res = _rc(case118, 0)
    thr = res.meta["threshold"]
    assert thr == pytest.approx(0.05 * case118.load_bus_mw.sum())
    assert res.meta["excluded_malignant_singles"] > 0
    assert res.sets, res.meta
    assert res.meta["evaluations"] > 0 and res.meta["succeeded"] >= len(res.sets)
    for s in res.sets:
        x = s["branches"]
        assert 2 <= len(x) <= 3  # singles excluded: genuine multiple contingencies
        check = run_cascades(case118, [x] + [[b for b in x if b != y] for y in x],
                             trip_multiple=1.2)
        assert check.load_lost_mw[0] >= thr
        assert check.load_lost_mw[0] == pytest.approx(s["load_lost_mw"])
        assert (check.load_lost_mw[1:] < thr).all(), x  # minimal
    assert len({tuple(s["branches"]) for s in res.sets}) == len(res.sets)


def test_random_chemistry_is_deterministic(case118: DCModel) -> None:
    a = _rc(case118, 0)
    b = random_chemistry(case118, k=3, trials=4, seed=0, trip_multiple=1.2,
                         exclude_malignant_singles=True)
    assert a.sets == b.sets and a.meta["evaluations"] == b.meta["evaluations"]
    assert a.to_frame().shape[0] == len(a.sets)


def test_random_chemistry_bad_input(case118: DCModel) -> None:
    with pytest.raises(BlackoutError):
        random_chemistry(case118, k=0)
    with pytest.raises(BlackoutError):
        random_chemistry(case118, k=2, measure="volts")
    with pytest.raises(BlackoutError):
        random_chemistry(case118, k=2, trials=0)
