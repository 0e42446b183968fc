"""A lightsim2grid ``LSGrid`` built once per Grid and reused between AC power flows.

lightsim2grid's python-facing ``solve(Ybus, ...)`` rebuilds the Jacobian pattern and
re-runs KLU's symbolic analysis on every call; its ``LSGrid.ac_pf`` keeps them while
the topology stays the same. :class:`LsModel` holds one ``LSGrid`` with every element
of the Grid (one bus per Grid bus, same positions), and before each solve it switches
on exactly the elements of one island (the others are switched off, so lightsim2grid
sees one connected grid) and pushes the changed injections. Only what changed since
the previous call is sent.

The model is built from the same per-unit data as :func:`blackout.flow.network.admittance`
(branches with ``tap`` 1, or 0 as MATPOWER's makeYbus reads it, and no phase shift as lines with the charging split evenly,
the rest as transformers with tap and shift on the from side, bus shunts as shunts); its
Ybus equals pandapower's ``makeYbus`` (tested). Every solution is also checked against
our own equations before it is used (see :meth:`LsModel.solve_island`), so a case this
model does not represent falls back to the per-island solver instead of giving a
different answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from lightsim2grid.network import LSGrid
from scipy.sparse import csc_matrix

from blackout.flow.network import Network
from blackout.grid.model import Grid

__all__ = ["IslandSetup", "LsModel", "ls_model"]

# a solution is accepted when it meets our own power-flow equations this closely (pu)
_CHECK_FLOOR_PU = 1e-9


@dataclass(frozen=True)
class IslandSetup:
    """What defines one island's power flow (indices local to ``buses``).

    slack : the slack bus (Grid position). ref, pv, pq : local indices. vm0 : voltage
    magnitude per bus (setpoints at PV/ref buses, 1 elsewhere), pu. y : the island's Ybus (CSC).
    """

    buses: np.ndarray
    slack: int
    ref: np.ndarray
    pv: np.ndarray
    pq: np.ndarray
    vm0: np.ndarray
    y: csc_matrix


class LsModel:
    """One ``LSGrid`` holding all elements of ``grid``; statuses and injections are synced
    to each power flow's state before it is solved. Thread-safe (one solve at a time)."""

    def __init__(self, grid: Grid) -> None:
        from lightsim2grid.network._default_algorithms import use_fastest_default_algorithms

        self.grid = grid
        br, bus, gen, load = grid.branch, grid.bus, grid.gen, grid.load
        nb = bus.n
        model = LSGrid()
        model.set_sn_mva(float(grid.base_mva))
        tap = np.asarray(br["tap"], dtype=float)
        # MATPOWER's convention (makeYbus): a tap of 0 is a line, ratio 1. Passed on as 0,
        # lightsim2grid divides by it and every Newton step fails (InifiniteValue) after a
        # factorisation of an infinite Jacobian (~30 s on case_ACTIVSg70k).
        tap = np.where(tap == 0.0, 1.0, tap)
        shift = np.asarray(br["shift_degree"], dtype=float)
        is_trafo = (tap != 1.0) | (shift != 0.0)
        self.lines = np.flatnonzero(~is_trafo)
        self.trafos = np.flatnonzero(is_trafo)
        # LSGrid element id per branch (lines first, then transformers: the order of
        # ContingencyAnalysisCPP's branch ids) and whether it is a transformer
        self.is_trafo = is_trafo
        self.element_id = np.empty(br.n, dtype=np.int64)
        self.element_id[self.lines] = np.arange(self.lines.size)
        self.element_id[self.trafos] = np.arange(self.trafos.size)
        self.cpp_branch_id = np.where(is_trafo, self.element_id + self.lines.size, self.element_id)
        model.init_bus(nb, 1, np.asarray(bus["vn_kv"], dtype=float), self.lines.size,
                       self.trafos.size)
        f = np.asarray(br["from_bus"], dtype=np.int32)
        t = np.asarray(br["to_bus"], dtype=np.int32)
        r = np.asarray(br["r_pu"], dtype=float)
        x = np.asarray(br["x_pu"], dtype=float)
        charging = np.asarray(br["g_pu"], dtype=float) + 1j * np.asarray(br["b_pu"], dtype=float)
        li, ti = self.lines, self.trafos
        model.init_powerlines_full(r[li], x[li], charging[li] / 2, charging[li] / 2, f[li], t[li])
        model.init_trafo(r[ti], x[ti], charging[ti], tap[ti], shift[ti], [True] * ti.size,
                         f[ti], t[ti], True)
        gs = np.asarray(bus["gs_mw"], dtype=float)
        bs = np.asarray(bus["bs_mvar"], dtype=float)
        self.shunt_bus = np.flatnonzero((gs != 0) | (bs != 0))
        # a shunt's q_mvar is consumption at 1 pu: -Bs
        model.init_shunt(gs[self.shunt_bus], -bs[self.shunt_bus],
                         self.shunt_bus.astype(np.int32))
        self.load_bus = np.asarray(load["bus"], dtype=np.int64)
        self.load_p = np.asarray(load["p_mw"], dtype=float).copy()
        self.load_q = np.asarray(load["q_mvar"], dtype=float).copy()
        model.init_loads(self.load_p, self.load_q, self.load_bus.astype(np.int32))
        self.gen_bus = np.asarray(gen["bus"], dtype=np.int64)
        self.gen_p = np.asarray(gen["p_mw"], dtype=float).copy()
        # a generator at a PQ bus (type 1) injects its fixed Q, as in build_network
        regulating = [bool(v) for v in np.asarray(bus["type"])[self.gen_bus] != 1]
        model.init_generators_full(self.gen_p, np.asarray(gen["vm_pu"], dtype=float),
                                   np.asarray(gen["q_mvar"], dtype=float), regulating,
                                   np.asarray(gen["qmin_mvar"], dtype=float),
                                   np.asarray(gen["qmax_mvar"], dtype=float),
                                   self.gen_bus.astype(np.int32))
        use_fastest_default_algorithms(model)
        self.model = model
        # what the LSGrid holds now: every element in service, no slack
        self.branch_on = np.ones(br.n, dtype=bool)
        self.gen_on = np.ones(gen.n, dtype=bool)
        self.load_on = np.ones(load.n, dtype=bool)
        self.shunt_on = np.ones(self.shunt_bus.size, dtype=bool)
        self.slack_gen = -1
        self.lock = threading.Lock()

    # -- syncing ------------------------------------------------------------------------

    def sync(self, net: Network, buses: np.ndarray, slack: int) -> None:
        """Switch on exactly the live elements of the island ``buses`` (Grid positions) with
        ``slack`` as its slack bus, and push the state's injections (MW/Mvar)."""
        grid, m = self.grid, self.model
        in_isl = np.zeros(grid.bus.n, dtype=bool)
        in_isl[buses] = True
        state = net.state
        branch_want = np.zeros(grid.branch.n, dtype=bool)
        branch_want[net.live] = in_isl[np.asarray(grid.branch["from_bus"])[net.live]]
        gen_want = net.gen_on & in_isl[self.gen_bus]
        load_want = in_isl[self.load_bus]
        shunt_want = in_isl[self.shunt_bus]
        slack_gen = int(np.flatnonzero(gen_want & (self.gen_bus == slack))[0])
        if slack_gen != self.slack_gen and self.slack_gen >= 0:
            m.remove_gen_slackbus(self.slack_gen)
            self.slack_gen = -1
        for i in np.flatnonzero(branch_want != self.branch_on):
            j = int(self.element_id[i])
            if self.is_trafo[i]:
                (m.reactivate_trafo if branch_want[i] else m.deactivate_trafo)(j)
            else:
                (m.reactivate_powerline if branch_want[i] else m.deactivate_powerline)(j)
        self.branch_on = branch_want
        for i in np.flatnonzero(gen_want != self.gen_on):
            (m.reactivate_gen if gen_want[i] else m.deactivate_gen)(int(i))
        self.gen_on = gen_want
        for i in np.flatnonzero(load_want != self.load_on):
            (m.reactivate_load if load_want[i] else m.deactivate_load)(int(i))
        self.load_on = load_want
        for i in np.flatnonzero(shunt_want != self.shunt_on):
            (m.reactivate_shunt if shunt_want[i] else m.deactivate_shunt)(int(i))
        self.shunt_on = shunt_want
        # injections: float64 one by one (the vectorised updates take float32)
        gen_p = np.asarray(state.gen_p_mw, dtype=float)
        for i in np.flatnonzero(gen_want & (gen_p != self.gen_p)):
            m.change_p_gen(int(i), float(gen_p[i]))
            self.gen_p[i] = gen_p[i]
        load_p = np.asarray(state.load_p_mw, dtype=float)
        for i in np.flatnonzero(load_want & (load_p != self.load_p)):
            m.change_p_load(int(i), float(load_p[i]))
            self.load_p[i] = load_p[i]
        load_q = np.asarray(state.load_q_mvar, dtype=float)
        for i in np.flatnonzero(load_want & (load_q != self.load_q)):
            m.change_q_load(int(i), float(load_q[i]))
            self.load_q[i] = load_q[i]
        if self.slack_gen < 0:
            m.add_gen_slackbus(slack_gen, 1.0)
            self.slack_gen = slack_gen

    # -- solving ------------------------------------------------------------------------

    def solve_island(self, net: Network, setup: IslandSetup, sbus: np.ndarray, tol: float,
                     max_it: int, v_start: np.ndarray | None = None
                     ) -> tuple[np.ndarray, int] | None:
        """Newton-Raphson of one island from ``v_start`` (complex voltages of
        ``setup.buses``, pu; default a flat start: setpoint magnitudes, 0 degrees):
        (complex voltages of ``setup.buses``, pu; iterations), or None when lightsim2grid did
        not converge or its answer does not meet our equations (``sbus``: scheduled injection
        per island bus, pu): then the caller solves the island itself."""
        buses = setup.buses
        with self.lock:
            try:
                self.sync(net, buses, setup.slack)
                v0 = np.ones(self.grid.bus.n, dtype=complex)
                v0[buses] = setup.vm0 if v_start is None else v_start
                v = self.model.ac_pf(v0, int(max_it), float(tol))
                iters = int(self.model.get_algo().get_nb_iter())
            except RuntimeError:
                return None
        if v.size == 0:
            return None
        v_isl = np.asarray(v)[buses]
        return (v_isl, iters) if satisfies(setup, v_isl, sbus, tol) else None


def satisfies(setup: IslandSetup, v: np.ndarray, sbus: np.ndarray, tol: float) -> bool:
    """True when ``v`` (pu) solves the island's power-flow equations: P mismatch at PV and PQ
    buses, Q mismatch at PQ buses within ``10 * tol`` pu, setpoint magnitudes at PV/ref
    buses, 0 degrees at the slack."""
    mis = v * np.conj(setup.y @ v) - sbus
    limit = max(10.0 * tol, _CHECK_FLOOR_PU)
    free = np.concatenate([setup.pv, setup.pq])
    if free.size and np.abs(mis.real[free]).max() > limit:
        return False
    if setup.pq.size and np.abs(mis.imag[setup.pq]).max() > limit:
        return False
    held = np.concatenate([setup.pv, setup.ref])
    if np.abs(np.abs(v[held]) - setup.vm0[held]).max() > 1e-8:
        return False
    return bool(abs(np.angle(v[setup.ref[0]])) <= 1e-8)


_MODELS: OrderedDict[int, tuple[Grid, LsModel]] = OrderedDict()
_MODELS_SIZE = 4
_MODELS_LOCK = threading.Lock()


def ls_model(grid: Grid) -> LsModel:
    """The :class:`LsModel` of ``grid``, built on first use and kept (a few grids)."""
    with _MODELS_LOCK:
        hit = _MODELS.get(id(grid))
        if hit is not None and hit[0] is grid:
            _MODELS.move_to_end(id(grid))
            return hit[1]
        model = LsModel(grid)
        _MODELS[id(grid)] = (grid, model)
        while len(_MODELS) > _MODELS_SIZE:
            _MODELS.popitem(last=False)
        return model
