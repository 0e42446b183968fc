"""The restoration's state: what is closed, damaged, running and served, and what it means.

:class:`RestorationState` holds every quantity the restoration changes (branch
breakers and statuses, unit states and outputs, the served share of every load,
the action log) and the questions asked of it (the islands and which are live,
served load per bus, unit capacity, an island's highest branch loading by power
flow, its frequency-response pickup limit). It decides nothing: the process steps
are in :mod:`blackout.restore.engine` (crews, units, balance, interference) and the
dispatchers' choices in :mod:`blackout.restore.control_room`.

Branch statuses (:class:`BranchStatus`): ready to close, needs a patrol, damaged
(needs a repair), never (out of service in the base case). Unit states
(:class:`UnitState`): off, starting, on, damaged, never.
"""

from __future__ import annotations

import math
from enum import IntEnum, StrEnum
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

from blackout.flow import FlowState, run_ac, run_dc
from blackout.grid.model import Grid
from blackout.restore.params import RestoreParams
from blackout.restore.pickup import PickupLimit, max_pickup
from blackout.restore.start import StartState

__all__ = ["BranchStatus", "UnitState", "RestorationState", "READY", "PATROL", "DAMAGED",
           "NEVER"]


class BranchStatus(IntEnum):
    """A branch's restoration status (stored as ints in ``branch_status``)."""

    READY = 0  #: may be closed
    PATROL = 1  #: tripped: a crew must patrol it first
    DAMAGED = 2  #: a crew must repair it
    NEVER = 3  #: out of service in the base case


READY, PATROL, DAMAGED, NEVER = (BranchStatus.READY, BranchStatus.PATROL,
                                 BranchStatus.DAMAGED, BranchStatus.NEVER)


class UnitState(StrEnum):
    """A generating unit's state (stored in ``unit_state``)."""

    OFF = "off"  #: may be started (black start) or cranked from a live bus
    STARTING = "starting"  #: starting; on line at ``unit_ready_h``
    ON = "on"  #: on line
    DAMAGED = "damaged"  #: a crew must repair it
    NEVER = "never"  #: out of service, no capacity, or out of fuel


class RestorationState:
    """The mutable state of one restoration on ``grid`` from the cascade's end ``start``.

    Attributes (per branch, gen, load or bus in the grid's order; times in hours since
    the event, powers in MW): ``time_h``; ``branch_closed``, ``branch_status``
    (:class:`BranchStatus`), ``branch_ready_h`` (locked until), ``reclose_attempted``;
    ``unit_state`` (:class:`UnitState`), ``unit_ready_h``, ``unit_on_since_h``,
    ``unit_tripped_h``, ``pmax_mw``, ``output_mw``, ``cranking_mw`` (auxiliaries of a
    starting thermal unit), ``fuel_mwh``, ``black_start``, ``gen_kind``;
    ``demand_mw``, ``served_fraction`` (0-1), ``priority`` (region x critical weight),
    ``load_bus``; ``bricked_bus`` (needs manual switching); ``hops`` (bus-to-bus
    branch hops over in-service branches); ``slowdown`` (action-time factor) and
    ``reclose_fails`` (interference); ``carry_over_min`` (dispatcher minutes overrun,
    per unit), ``retry_h`` (a failed load or branch is retried after); the records
    ``close_log``, ``pickups``, ``actions``, ``sample_times_h``, ``served_samples_bus_mw``.
    """

    def __init__(self, grid: Grid, start: StartState, params: RestoreParams, *,
                 pmax_caps_mw: dict[str, float]) -> None:
        self.grid, self.params, self.time_h = grid, params, start.time_h
        br, gen, load = grid.branch, grid.gen, grid.load
        self.from_bus, self.to_bus = np.asarray(br["from_bus"]), np.asarray(br["to_bus"])
        self.branch_closed = start.branch_closed.copy()
        self.branch_status = np.where(br["in_service"], READY, NEVER)
        self.branch_ready_h = np.zeros(br.n)
        self.reclose_attempted = np.zeros(br.n, dtype=bool)
        self.close_log: list[tuple[float, int]] = []
        self.pmax_mw = np.asarray(gen["pmax_mw"], dtype=float).copy()
        for name, cap in pmax_caps_mw.items():
            self.pmax_mw[grid.find("gen", name)] = min(self.pmax_mw[grid.find("gen", name)], cap)
        self.gen_kind = [str(k) for k in gen["kind"]]
        names = [str(n) for n in gen["name"]]
        self.black_start = np.asarray(gen["black_start"], dtype=bool).copy()
        if params.black_start_units:
            self.black_start &= np.array([n in params.black_start_units for n in names])
        self.unit_state = np.where(start.gen_on, UnitState.ON, UnitState.OFF).astype(object)
        self.unit_state[~np.asarray(gen["in_service"]) | (self.pmax_mw <= 0)] = UnitState.NEVER
        self.unit_state[start.gen_on & (self.pmax_mw > 0)] = UnitState.ON
        self.unit_ready_h = np.full(gen.n, np.nan)
        self.unit_on_since_h = np.where(start.gen_on, -1e9, np.nan)
        self.unit_tripped_h = start.gen_tripped_h.copy()
        self.cranking_mw = np.zeros(gen.n)
        fuel_h = np.asarray(gen["fuel_hours"], dtype=float)
        self.fuel_mwh = np.full(gen.n, np.inf)
        finite = np.isfinite(fuel_h)
        self.fuel_mwh[finite] = fuel_h[finite] * self.pmax_mw[finite]
        self.output_mw = np.zeros(gen.n)
        self.demand_mw = np.where(load["in_service"], np.asarray(load["p_mw"], dtype=float), 0.0)
        self.served_fraction = start.load_fraction.copy()
        self.load_bus = np.asarray(load["bus"])
        reg = grid.bus["region"][self.load_bus]
        names = [str(n) for n in grid.region["name"]]
        w_reg = np.array([params.region_priority.get(names[r], 1.0) if r >= 0 else 0.5
                          for r in reg])
        crit = np.array([bool(str(c)) for c in load["critical"]])
        self.priority = w_reg * np.where(crit, params.critical_priority, 1.0)
        self.slowdown, self.reclose_fails = 1.0, False
        self.bricked_bus = np.zeros(grid.bus.n, dtype=bool)
        self.carry_over_min: dict[int, float] = {}
        self.retry_h: dict[tuple[str, int], float] = {}
        self.pickups: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self.sample_times_h: list[float] = [self.time_h]
        self.served_samples_bus_mw: list[np.ndarray] = []
        self.hops = self._hop_matrix()


    def islands(self) -> tuple[np.ndarray, np.ndarray]:
        """(label per bus, live per bus): connected components over closed branches.

        Memoised on the switching state (closed branches, units on): a step asks ~9 times
        and the state seldom changes in between (a restoration ~2.5x faster)."""
        on = self.branch_closed & (self.branch_status != NEVER)
        units_on = self.unit_state == UnitState.ON
        key = on.tobytes() + units_on.tobytes()
        memo = getattr(self, "_islands_memo", None)
        if memo is not None and memo[0] == key:
            return memo[1].copy(), memo[2].copy()
        nb = self.grid.bus.n
        m = coo_matrix((np.ones(int(on.sum())), (self.from_bus[on], self.to_bus[on])), shape=(nb, nb))
        _, labels = connected_components(m, directed=False)
        gbus = np.asarray(self.grid.gen["bus"])
        live = np.isin(labels, list(set(labels[gbus[units_on]].tolist())))
        self._islands_memo = (key, labels.copy(), live.copy())
        return labels, live

    def served_bus_mw(self) -> np.ndarray:
        """Served load per bus now, MW."""
        _, live = self.islands()
        served = np.where(live[self.load_bus], self.demand_mw * self.served_fraction, 0.0)
        return np.bincount(self.load_bus, weights=served, minlength=self.grid.bus.n)

    def bus_location(self, b: int) -> tuple[float, float]:
        """(latitude, longitude) of bus ``b``, degrees."""
        return float(self.grid.bus["lat"][b]), float(self.grid.bus["lon"][b])

    def capacity(self, k: np.ndarray) -> np.ndarray:
        """What units ``k`` can produce now (ramping after start), MW."""
        ramp = np.array([self.params.by_kind(self.params.ramp_pu_per_h, self.gen_kind[i]) for i in k])
        return np.minimum(self.pmax_mw[k], ramp * self.pmax_mw[k] * np.maximum(
            self.time_h - self.unit_on_since_h[k], 0.0))

    def island_units(self, labels: np.ndarray, lab: int) -> np.ndarray:
        """Positions of online units in island ``lab``."""
        gbus = np.asarray(self.grid.gen["bus"])
        return np.flatnonzero((self.unit_state == UnitState.ON) & (labels[gbus] == lab))

    def island_load(self, labels: np.ndarray, lab: int) -> float:
        """Served load plus cranking power in island ``lab``, MW."""
        gbus = np.asarray(self.grid.gen["bus"])
        on_bus = labels[self.load_bus] == lab
        return float((self.demand_mw * self.served_fraction)[on_bus].sum()
                     + self.cranking_mw[labels[gbus] == lab].sum())

    def log(self, action: str, what: str, *, why: str) -> None:
        """Record an action at the current time."""
        self.actions.append({"time_h": round(self.time_h, 3), "action": action, "what": what,
                             "why": why})

    def flow_ok(self, labels: np.ndarray, lab: int, before: float) -> bool:
        """True when island ``lab``'s highest branch loading is within the limit, or no
        worse than ``before`` (the loading before the action being checked)."""
        after = self.max_loading(labels, lab)
        return after <= max(self.params.max_loading_percent, before + 1e-6)

    def max_loading(self, labels: np.ndarray, lab: int) -> float:
        """Highest branch loading in island ``lab`` by power flow, % (inf: no solution)."""
        buses = labels == lab
        inside = buses[self.from_bus] & buses[self.to_bus] & self.branch_closed
        if not inside.any():
            return 0.0
        # Units keep the step's dispatch; the island's slack (its largest unit) takes the
        # change, so an action is judged by the flow it adds from the main plant.
        out = np.where(self.unit_state == UnitState.ON, self.output_mw, 0.0)
        _, live = self.islands()
        fs = FlowState(branch_in=self.branch_closed & (self.branch_status != NEVER),
                       gen_in=self.unit_state == UnitState.ON, bus_in=np.ones(self.grid.bus.n, dtype=bool),
                       gen_p_mw=out, load_p_mw=np.where(live[self.load_bus], self.demand_mw * self.served_fraction,
                                                        0.0),
                       load_q_mvar=np.where(live[self.load_bus], self.demand_mw * self.served_fraction * 0.33,
                                            0.0))
        res = run_dc(self.grid, fs) if self.params.flow_mode == "dc" else run_ac(self.grid, fs)
        if not res.converged:
            return math.inf
        loading = np.asarray(res.branch["loading_percent"], dtype=float)[inside]
        loading = loading[np.isfinite(loading)]
        return float(loading.max()) if loading.size else 0.0

    def pickup_limit(self, labels: np.ndarray, lab: int) -> PickupLimit:
        """The frequency-response limit of island ``lab`` now (:func:`max_pickup`)."""
        units = self.island_units(labels, lab)
        cap = self.capacity(units)
        gen = self.grid.gen
        load = self.island_load(labels, lab)
        out = cap * (load / cap.sum()) if cap.sum() > 0 else np.zeros_like(cap)
        return max_pickup(capacity_mw=cap, output_mw=out,
                          inertia_h_s=np.asarray(gen["inertia_h_s"], dtype=float)[units],
                          droop_pu=np.asarray(gen["droop_pu"], dtype=float)[units],
                          kinds=[self.gen_kind[k] for k in units], f_hz=self.grid.f_hz,
                          params=self.params)

    def _hop_matrix(self) -> np.ndarray:
        nb = self.grid.bus.n
        ok = self.branch_status != NEVER
        m = coo_matrix((np.ones(int(ok.sum())), (self.from_bus[ok], self.to_bus[ok])), shape=(nb, nb))
        return shortest_path(m, directed=False, unweighted=True)
