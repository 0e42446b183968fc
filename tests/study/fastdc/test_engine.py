"""The fast DC engine against the detailed engine's simple DC mode and pandapower."""

from __future__ import annotations

import numpy as np
import pytest

from blackout.cascade import CascadeSettings, simulate
from blackout.events import Event
from blackout.study.fastdc.engine import run_cascades
from blackout.study.fastdc.model import DCModel

LOAD_MW_TOL = 1e-6  # load lost, fast vs detailed
FLOW_MW_TOL = 1e-6  # post-outage flows vs pandapower rundcpp


def _detailed(model: DCModel, outage: list[int], trip_multiple: float
              ) -> tuple[set[int], float]:
    grid = model.grid
    events = [Event(0.0, "branch", int(b), "trip") for b in outage]
    tl = simulate(grid, events, settings=CascadeSettings.simple_dc(trip_multiple=trip_multiple))
    tripped = {e.element for e in tl.events if e.cause == "overload" and e.kind == "branch"}
    lost = float(model.load_bus_mw.sum() - tl.served_mw_at(tl.end_time_s).sum())
    return tripped, lost


def _random_n2(model: DCModel, n: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    live = np.flatnonzero(model.live)
    return [sorted(rng.choice(live, 2, replace=False).tolist()) for _ in range(n)]


# The sizes: 1,000 and 200 random N-2 events (~75 s in all, most of it the detailed
# engine on case2869pegase).
@pytest.mark.parametrize(("fixture", "n", "mult"), [("case118", 1000, 1.0),
                                                     ("case2869", 200, 1.0)])
def test_fast_equals_detailed_simple_dc(request: pytest.FixtureRequest, fixture: str, n: int,
                                        mult: float) -> None:
    model: DCModel = request.getfixturevalue(fixture)
    events = _random_n2(model, n, seed=7)
    fast = run_cascades(model, events, trip_multiple=mult)
    islanded = int((fast.islands > model.base_islands).sum())
    cascaded = int((fast.rounds > 0).sum())
    assert islanded > 0 and cascaded > 0  # the sample exercises both paths
    for i, ev in enumerate(events):
        tripped, lost = _detailed(model, ev, mult)
        assert set(fast.tripped[i].tolist()) == tripped, ev
        assert abs(fast.load_lost_mw[i] - lost) <= LOAD_MW_TOL, ev
