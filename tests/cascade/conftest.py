"""Small synthetic grids for cascade tests (fixture ``make_island``)."""

from __future__ import annotations

from blackout.grid.model import Grid


def two_bus_island(*, load_mw: float, gen_a_mw: float, gen_b_mw: float, headroom: float = 0.1,
                   h_s: float = 4.0, droop_pu: float = 0.05, kind: str = "steam",
                   f_hz: float = 60.0) -> Grid:
    """Bus A with unit A, bus B with unit B and the whole load; one strong line between.

    Tripping unit B leaves an island with a deficit of gen_b_mw (of load_mw). Unit A runs
    with ``headroom`` (fraction of its rating) spare; inertia H and droop R on both units.
    """
    pmax_a = gen_a_mw / (1.0 - headroom)
    pmax_b = gen_b_mw / (1.0 - headroom)
    return Grid.from_columns(
        name="two-bus",
        f_hz=f_hz,
        bus={"name": ["A", "B"], "number": [1, 2], "type": [3, 1], "vn_kv": [230.0, 230.0],
             "region": [0, 0]},
        branch={"name": ["A-B"], "from_bus": [0], "to_bus": [1], "x_pu": [0.001],
                "rate_a_mva": [5 * load_mw], "rate_b_mva": [5 * load_mw]},
        gen={"name": ["unit A", "unit B"], "bus": [0, 1], "p_mw": [gen_a_mw, gen_b_mw],
             "pmax_mw": [pmax_a, pmax_b], "mbase_mva": [pmax_a, pmax_b],
             "kind": [kind, kind], "inertia_h_s": [h_s, h_s], "droop_pu": [droop_pu, droop_pu]},
        load={"name": ["load"], "bus": [1], "p_mw": [load_mw]},
        region={"name": ["R"]},
    )


import pytest  # noqa: E402


@pytest.fixture
def make_island():  # type: ignore[no-untyped-def]
    """The :func:`two_bus_island` builder."""
    return two_bus_island
