"""A Grid as a pypowsybl network, through PowSyBl's MATPOWER importer (the ``psse``
extra), for side-by-side comparisons with OpenLoadFlow in tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from blackout.grid.io.ppc import grid_to_ppc
from blackout.grid.model import Grid

__all__ = ["to_powsybl"]


def to_powsybl(grid: Grid, folder: Path) -> tuple[Any, list[str]]:
    """``(network, branch_ids)``: ``grid`` written as a MATPOWER .mat file in ``folder``
    without branch ratings (rate_a/b/c 0: callers set the limits they compare), read by
    pypowsybl, and the importer's id of each branch by position (``LINE-a-b`` or
    ``TWT-a-b`` with bus numbers; parallel branches ``#0``, ``#1``, ...)."""
    import pypowsybl as pw

    ppc = grid_to_ppc(grid)
    branch = np.array(ppc["branch"], dtype=float)
    branch[:, 5:8] = 0.0
    path = folder / "case.mat"
    scipy.io.savemat(path, {"mpc": {"version": "2", "baseMVA": float(ppc["baseMVA"]),
                                    "bus": ppc["bus"], "gen": ppc["gen"], "branch": branch}})
    net = pw.network.load(str(path))
    ids = set(net.get_lines().index) | set(net.get_2_windings_transformers().index)
    num = np.asarray(grid.bus["number"])
    seen: dict[tuple[int, int], int] = {}
    bid = []
    for a, b in zip(num[grid.branch["from_bus"]].tolist(), num[grid.branch["to_bus"]].tolist(),
                    strict=True):
        k = seen.get((a, b), 0)
        seen[(a, b)] = k + 1
        stem = next(p for p in (f"LINE-{a}-{b}", f"TWT-{a}-{b}") if p in ids)
        bid.append(stem if k == 0 else f"{stem}#{k - 1}")
    return net, bid
