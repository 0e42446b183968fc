"""A hand-checkable grid for threat tests.

Buses on a 1-degree square near the equator (lon, lat):

    C (0,1) ---- north (corridor N) ---- D (1,1)
    |                                   |
   west (W)                           east (E)
    |                                   |
    A (0,0) ---- south (corridor S) ---- B (1,0)      A2 (0,0): transformer A-A2

plus "south 2", a second circuit A-B in corridor S.
"""

from __future__ import annotations

import pytest

from blackout.grid.model import Grid


def square_grid(*, parallel: bool = False) -> Grid:
    """The grid above; ``parallel`` adds circuit "south 2" in corridor S."""
    names = ["south", "north", "west", "east", "A-A2"]
    fb, tb = [0, 2, 0, 1, 0], [1, 3, 2, 3, 4]
    corr, kind = ["S", "N", "W", "E", ""], ["line"] * 4 + ["transformer"]
    if parallel:
        names.append("south 2")
        fb.append(0)
        tb.append(1)
        corr.append("S")
        kind.append("line")
    n = len(names)
    return Grid.from_columns(
        name="square",
        bus={"name": ["A", "B", "C", "D", "A2"], "number": [1, 2, 3, 4, 5],
             "type": [3, 1, 1, 1, 1], "vn_kv": [230.0] * 4 + [115.0],
             "lon": [0.0, 1.0, 0.0, 1.0, 0.0], "lat": [0.0, 0.0, 1.0, 1.0, 0.0],
             "region": [0, 0, 1, 1, 0]},
        branch={"name": names, "from_bus": fb, "to_bus": tb, "x_pu": [0.1] * n,
                "rate_a_mva": [100.0] * n, "corridor": corr, "kind": kind},
        gen={"name": ["G1", "G2"], "bus": [0, 3], "p_mw": [60.0, 40.0],
             "pmax_mw": [100.0, 100.0], "kind": ["hydro", "steam"]},
        load={"name": ["L-B", "L-C", "L-A2"], "bus": [1, 2, 4], "p_mw": [40.0, 40.0, 20.0]},
        region={"name": ["South", "North"]},
    )


@pytest.fixture
def grid() -> Grid:
    return square_grid()


@pytest.fixture
def grid2() -> Grid:
    return square_grid(parallel=True)
