"""Topology: islands (connected components of in-service branches)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from blackout.grid.model import Grid

__all__ = ["island_labels"]


def island_labels(
    grid: Grid, *, branch_in: np.ndarray | None = None, bus_in: np.ndarray | None = None
) -> np.ndarray:
    """Island number of every bus (``-1`` for an out-of-service bus).

    Islands are the connected components of the in-service branches between
    in-service buses, numbered 0, 1, ... in order of their lowest bus position.
    """
    nb = grid.bus.n
    bus_in = grid.bus["in_service"] if bus_in is None else bus_in
    branch_in = grid.branch["in_service"] if branch_in is None else branch_in
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    live = branch_in & bus_in[f] & bus_in[t]
    adj = coo_matrix((np.ones(int(live.sum())), (f[live], t[live])), shape=(nb, nb))
    _, labels = connected_components(adj, directed=False)
    labels = labels.astype(np.int64)
    labels[~bus_in] = -1
    # renumber in order of first appearance so numbering is stable and dense
    order: dict[int, int] = {}
    out = np.full(nb, -1, dtype=np.int64)
    for i, lab in enumerate(labels.tolist()):
        if lab < 0:
            continue
        if lab not in order:
            order[lab] = len(order)
        out[i] = order[lab]
    return out
