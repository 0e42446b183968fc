"""A plain reference cascade loop on :func:`blackout.flow.run_dc`, one scenario at a time.

Independent of the fast engine's linear algebra and island detection: it rebuilds
the islands from the topology and solves every island from scratch each round. It
shares only the re-dispatch formula (``waterfill``), which is the rule under test.
"""

from __future__ import annotations

import numpy as np

from blackout.flow import run_dc
from blackout.flow.state import FlowState
from blackout.grid.model import Grid
from blackout.grid.topology import island_labels
from blackout.study.dcmodel import waterfill


def reference_cascade(grid: Grid, initiating: list[int], trip_multiple: float,
                      participation: bool = True) -> tuple[set[int], float, np.ndarray]:
    """(tripped branches, load lost MW, final flows MW) by the simple DC rule."""
    st = FlowState.of(grid)
    st.branch_in[list(initiating)] = False
    rate = np.asarray(grid.branch["rate_a_mva"])
    gbus, lbus = grid.gen["bus"], grid.load["bus"]
    pmax = np.asarray(grid.gen["pmax_mw"], dtype=float)
    base_load = float(st.load_p_mw.sum())
    tripped: set[int] = set()
    while True:
        labels = island_labels(grid, branch_in=st.branch_in, bus_in=st.bus_in)
        for k in range(int(labels.max()) + 1):
            gens = np.flatnonzero(st.gen_in & (labels[gbus] == k))
            loads = np.flatnonzero(labels[lbus] == k)
            if gens.size == 0:
                st.load_p_mw[loads] = 0.0
                continue
            if not participation:
                continue
            demand = float(st.load_p_mw[loads].sum())
            cap = float(pmax[gens].sum())
            if demand > cap:
                st.load_p_mw[loads] *= cap / demand
            st.gen_p_mw[gens] = waterfill(st.gen_p_mw[gens], pmax[gens], demand)
        res = run_dc(grid, st)
        p = np.nan_to_num(np.asarray(res.branch["p_from_mw"], dtype=float))
        over = st.branch_in & (rate > 0) & (np.abs(p) > trip_multiple * rate)
        if not over.any():
            return tripped, base_load - float(st.load_p_mw.sum()), p
        tripped |= set(np.flatnonzero(over).tolist())
        st.branch_in[over] = False
