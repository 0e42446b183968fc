"""A small radial grid with one black-start hydro unit, and its blackout timeline.

Buses 0-4 in a chain (0.5 degree apart, ~55 km): a 500 MW hydro unit with
black-start capability at bus 0, a 200 MW gas unit at bus 3, loads of 60 MW at
buses 1-4, each bus in its own region (A-D). The "blackout" trips both units and
faults branch 1-2.
"""

from __future__ import annotations

import numpy as np

from blackout.cascade import Timeline
from blackout.events import Event
from blackout.grid.model import Grid


def chain_grid() -> Grid:
    n = 5
    return Grid.from_columns(
        name="chain5",
        bus={"name": [f"B{i}" for i in range(n)], "number": list(range(1, n + 1)),
             "vn_kv": [230.0] * n, "type": [3, 1, 1, 1, 1],
             "region": [-1, 0, 1, 2, 3], "lat": [8.0 + 0.5 * i for i in range(n)],
             "lon": [-66.0] * n},
        branch={"name": [f"L{i}-{i + 1}" for i in range(n - 1)],
                "from_bus": list(range(n - 1)), "to_bus": list(range(1, n)),
                "x_pu": [0.05] * (n - 1), "r_pu": [0.005] * (n - 1),
                "rate_a_mva": [400.0] * (n - 1), "length_km": [60.0] * (n - 1)},
        gen={"name": ["Hydro BS", "Gas"], "bus": [0, 3], "p_mw": [240.0, 0.0],
             "pmax_mw": [500.0, 200.0], "kind": ["hydro", "gas"],
             "black_start": [True, False], "inertia_h_s": [4.0, 4.0],
             "droop_pu": [0.05, 0.04]},
        load={"name": [f"Load {r}" for r in "ABCD"], "bus": [1, 2, 3, 4],
              "p_mw": [60.0] * 4, "q_mvar": [10.0] * 4, "customers": [1000.0] * 4},
        region={"name": list("ABCD"), "population": [1000.0, 2000.0, 3000.0, 4000.0]},
    )


def blackout_timeline(grid: Grid, *, faulted: tuple[int, ...] = (1,)) -> Timeline:
    """Both units trip, ``faulted`` branches fault; all load is lost at 60 s."""
    tl = Timeline(grid=grid, mode="dc")
    for b in faulted:
        tl.record(Event(0.0, "branch", b, "trip", cause="fault: flashover"))
    for g in range(grid.gen.n):
        tl.record(Event(1.0, "gen", g, "trip", cause="under-frequency"))
    tl.sample(0.0, grid.bus_load_mw(), 1)
    tl.sample(60.0, np.zeros(grid.bus.n), 0)
    tl.end_time_s = 60.0
    return tl
