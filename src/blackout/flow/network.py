"""The network matrices of one operating state, built with pandapower's PYPOWER routines.

One admittance matrix is built for every in-service branch; since no branch
crosses between islands, each island's system is a principal submatrix of it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pandapower.pypower import idx_brch as B
from pandapower.pypower import idx_bus as U
from pandapower.pypower.makeYbus import makeYbus
from scipy.sparse import csr_matrix

from blackout.flow.state import FlowState
from blackout.grid.model import Grid
from blackout.grid.topology import island_labels

__all__ = ["Network", "build_network", "island_slack"]


@dataclass
class Network:
    """Internal arrays for a power flow: live branches, injections and islands."""

    grid: Grid
    state: FlowState
    live: np.ndarray  # positions of in-service branches (rows of the internal branch array)
    bus: np.ndarray  # internal bus array (pandapower layout), all buses
    branch: np.ndarray  # internal branch array (pandapower layout), live branches only
    labels: np.ndarray  # island number per bus, -1 if the bus is out
    p_inj_mw: np.ndarray  # scheduled injection per bus (gen - load), MW
    q_inj_mvar: np.ndarray
    load_p_bus_mw: np.ndarray
    gen_on: np.ndarray  # generators in service on in-service buses


def build_network(grid: Grid, state: FlowState) -> Network:
    """Arrays for the state: live branches, bus injections (MW/Mvar) and island labels.

    The topology-only part (live branches, bus/branch arrays, island labels) is cached per
    (grid, branch_in, bus_in): a study or a cascade re-solves one topology many times."""
    nb = grid.bus.n
    bus_in = state.bus_in
    live, bus, branch, labels = _topology(grid, state.branch_in, bus_in)
    gen_on = state.gen_in & bus_in[grid.gen["bus"]]
    gbus = grid.gen["bus"]
    p_gen = np.bincount(gbus[gen_on], weights=state.gen_p_mw[gen_on], minlength=nb)
    q_gen = np.bincount(gbus[gen_on], weights=grid.gen["q_mvar"][gen_on], minlength=nb)
    lbus = grid.load["bus"]
    p_load = np.bincount(lbus, weights=state.load_p_mw, minlength=nb)
    q_load = np.bincount(lbus, weights=state.load_q_mvar, minlength=nb)
    if not bus_in.all():
        p_load = np.where(bus_in, p_load, 0.0)
        q_load = np.where(bus_in, q_load, 0.0)
    return Network(
        grid=grid, state=state, live=live, bus=bus, branch=branch, labels=labels,
        p_inj_mw=p_gen - p_load, q_inj_mvar=q_gen - q_load, load_p_bus_mw=p_load,
        gen_on=gen_on,
    )


_TOPO: OrderedDict[tuple[int, bytes, bytes], tuple[Grid, tuple[np.ndarray, ...]]] = OrderedDict()


def _topology(grid: Grid, branch_in: np.ndarray, bus_in: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(live branch positions, bus array, live branch array, island labels), cached.

    The arrays are shared between calls on one topology: read-only (flags cleared)."""
    key = (id(grid), np.asarray(branch_in, dtype=bool).tobytes(),
           np.asarray(bus_in, dtype=bool).tobytes())
    hit = _TOPO.get(key)
    if hit is not None and hit[0] is grid:
        _TOPO.move_to_end(key)
        live, bus, branch, labels = hit[1]
        return live, bus, branch, labels
    nb = grid.bus.n
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    live = np.flatnonzero(branch_in & bus_in[f] & bus_in[t])
    bus = np.zeros((nb, U.bus_cols))
    bus[:, U.BUS_I] = np.arange(nb)
    bus[:, U.BUS_TYPE] = 1
    bus[:, U.GS] = np.where(bus_in, grid.bus["gs_mw"], 0.0)
    bus[:, U.BS] = np.where(bus_in, grid.bus["bs_mvar"], 0.0)
    bus[:, U.VM] = 1.0
    bus[:, U.BASE_KV] = grid.bus["vn_kv"]
    br = grid.branch
    branch = np.zeros((live.size, B.branch_cols))
    branch[:, B.F_BUS] = f[live]
    branch[:, B.T_BUS] = t[live]
    branch[:, B.BR_R] = br["r_pu"][live]
    branch[:, B.BR_X] = br["x_pu"][live]
    branch[:, B.BR_B] = br["b_pu"][live]
    branch[:, B.BR_G] = br["g_pu"][live]
    branch[:, B.TAP] = br["tap"][live]
    branch[:, B.SHIFT] = br["shift_degree"][live]
    branch[:, B.BR_STATUS] = 1.0
    labels = island_labels(grid, branch_in=branch_in, bus_in=bus_in)
    arrays = (live, bus, branch, labels)
    for a in arrays:
        a.flags.writeable = False
    _TOPO[key] = (grid, arrays)
    while len(_TOPO) > _CACHE_SIZE:
        _TOPO.popitem(last=False)
    return live, bus, branch, labels


def island_slack(grid: Grid, net: Network, buses: np.ndarray) -> int | None:
    """Slack bus of an island: the case's reference bus if it has a live generator there,
    else the bus of the largest (by pmax_mw) in-service generator; None without generation."""
    in_island = np.zeros(grid.bus.n, dtype=bool)
    in_island[buses] = True
    gens = np.flatnonzero(net.gen_on & in_island[grid.gen["bus"]])
    if gens.size == 0:
        return None
    gbus = grid.gen["bus"][gens]
    refs = gbus[grid.bus["type"][gbus] == 3]
    if refs.size:
        return int(refs.min())
    pmax = grid.gen["pmax_mw"][gens]
    return int(gbus[np.argmax(pmax)])


_CACHE: OrderedDict[tuple[int, bytes, bytes, str], tuple[Grid, Any]] = OrderedDict()
_CACHE_SIZE = 128


def cached(grid: Grid, net: Network, what: str, build: Callable[[], Any]) -> Any:
    """Matrices depend only on the topology: cache them per (grid, live branches, live buses).

    A cascade re-solves one topology many times with new injections; a study solves
    one grid over and over. The grid is immutable, so the cache cannot go stale.
    """
    key = (id(grid), net.live.tobytes(), net.state.bus_in.tobytes(), what)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is grid:
        _CACHE.move_to_end(key)
        return hit[1]
    value = build()
    _CACHE[key] = (grid, value)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def admittance(grid: Grid, net: Network) -> tuple[csr_matrix, csr_matrix, csr_matrix]:
    """Ybus, Yf, Yt (pandapower's makeYbus) for the live branches, cached per topology."""
    return cached(grid, net, "ybus", lambda: makeYbus(grid.base_mva, net.bus, net.branch))


def submatrix(m: csr_matrix, idx: np.ndarray) -> csr_matrix:
    """Principal submatrix m[idx, idx]."""
    return m[idx][:, idx]
