"""Topology: islands (connected components of in-service branches)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from blackout.grid.model import Grid

__all__ = ["island_labels", "extract_buses"]


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
    # renumber in order of first appearance so numbering is stable and dense
    out = np.full(nb, -1, dtype=np.int64)
    live_buses = np.flatnonzero(bus_in)
    if live_buses.size:
        uniq, first = np.unique(labels[live_buses], return_index=True)
        rank = np.empty(uniq.size, dtype=np.int64)
        rank[np.argsort(first)] = np.arange(uniq.size)
        lookup = np.full(int(labels.max()) + 1, -1, dtype=np.int64)
        lookup[uniq] = rank
        out[live_buses] = lookup[labels[live_buses]]
    return out


def extract_buses(grid: Grid, buses: np.ndarray, *, name: str | None = None) -> Grid:
    """A new grid with only ``buses`` (positions) and the elements wholly inside them.

    Branches, generators and loads are kept in their original order and
    re-indexed; regions are kept whole.
    """
    buses = np.sort(np.asarray(buses, dtype=np.int64))
    new = np.full(grid.bus.n, -1, dtype=np.int64)
    new[buses] = np.arange(buses.size)
    inside = np.zeros(grid.bus.n, dtype=bool)
    inside[buses] = True
    br = grid.branch
    keep_br = inside[br["from_bus"]] & inside[br["to_bus"]]
    keep_gen = inside[grid.gen["bus"]]
    keep_load = inside[grid.load["bus"]]

    def take(table: object, keep: np.ndarray, remap: tuple[str, ...]) -> dict[str, np.ndarray]:
        cols = {k: np.asarray(v)[keep] for k, v in table.items()}  # type: ignore[attr-defined]
        for col in remap:
            cols[col] = new[cols[col]]
        return cols

    return grid.replace(
        name=name or f"{grid.name}[{buses.size} buses]",
        bus={k: np.asarray(v)[buses] for k, v in grid.bus.items()},
        branch=take(br, keep_br, ("from_bus", "to_bus")),
        gen=take(grid.gen, keep_gen, ("bus",)),
        load=take(grid.load, keep_load, ("bus",)),
    )
