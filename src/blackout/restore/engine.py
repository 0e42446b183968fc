"""The restoration simulation: from the cascade's end state to the lights back on.

Read :meth:`Restoration.run`; every step (``step_h``) does, in order::

    apply interference due now (collapse, new damage, slowed work)
    crews finish patrols and repairs; free crews take the next tasks
    units: black-start units on dead buses start; started units come on line; fuel
    each live island's control room spends the step's minutes on actions:
        pick up a load block no larger than the frequency-response limit, or
        crank a thermal unit (its auxiliaries are a load block), or
        close a branch: energise a dead bus (cranking path), synchronise two
        islands, or close a loop; each step is checked with a power flow and
        undone if a branch would be overloaded
    record served load per bus

The state it changes, and the questions asked of it (islands, capacity, power-flow
checks), are :class:`~blackout.restore.state.RestorationState`; the control rooms'
choices are :mod:`blackout.restore.control_room`. This module holds the process: set-up
(crews, patrols, scenario damage), interference, field work, units, balance, fuel.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from blackout.deadline import check_deadline
from blackout.grid.model import Grid
from blackout.restore.control_room import operate_islands
from blackout.restore.crews import CrewPool, Task, distance_km
from blackout.restore.interference import Interference
from blackout.restore.params import RestoreParams
from blackout.restore.start import StartState
from blackout.restore.state import (
    DAMAGED,
    NEVER,
    PATROL,
    READY,
    RestorationState,
    UnitState,
)

__all__ = ["Restoration", "READY", "PATROL", "DAMAGED", "NEVER"]


class Restoration(RestorationState):
    """One restoration run on ``grid`` from ``start`` (mutable state; use once).

    The state and its queries are inherited from :class:`RestorationState`; this class
    adds the crews, the pending interference and the step's process."""

    def __init__(self, grid: Grid, start: StartState, params: RestoreParams, *,
                 interference: list[Interference], repairs: list[dict[str, Any]],
                 locks_h: dict[str, float], pmax_caps_mw: dict[str, float]) -> None:
        super().__init__(grid, start, params, pmax_caps_mw=pmax_caps_mw)
        self.interference = sorted(interference, key=lambda i: i.at_h)
        self.crews = CrewPool(self._crew_positions(), travel_kmh=params.travel_kmh,
                              road_factor=params.road_factor)
        if params.open_dead_breakers:
            self.open_dead()
        self._start_tasks(start, repairs, locks_h)
        self.served_samples_bus_mw.append(self.served_bus_mw())

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        """Step to the horizon."""
        horizon, step = self.params.horizon_h, self.params.step_h
        while self.time_h < horizon - 1e-9:
            check_deadline()
            self.time_h = min(self.time_h + step, horizon)
            self.apply_interference()
            self.field_work()
            self.units()
            self.balance()
            self.operate()
            self.burn_fuel(step)
            self.sample_times_h.append(self.time_h)
            self.served_samples_bus_mw.append(self.served_bus_mw())

    # ------------------------------------------------------------------ islands


    def open_dead(self) -> None:
        """Open every breaker of a de-energised branch (the all-open restoration strategy)."""
        _, live = self.islands()
        dead = ~(live[self.from_bus] & live[self.to_bus]) & self.branch_closed
        self.branch_closed[dead] = False
        if dead.any():
            self.log("open breakers", f"{int(dead.sum())} branches in dark areas",
                     why="all-open strategy")

    # ------------------------------------------------------------------ set-up
    def _crew_positions(self) -> list[tuple[float, float]]:
        lat, lon = self.grid.bus["lat"], self.grid.bus["lon"]
        names = [str(n) for n in self.grid.bus["name"]]
        bases = [i for b in self.params.crew_bases for i, n in enumerate(names)
                 if n == b or n.startswith(b + " ")]
        if not bases:
            bases = sorted({int(b) for b, bs in zip(self.grid.gen["bus"], self.black_start,
                                                    strict=True) if bs}) or [0]
        n = self.params.crews_available
        return [(float(lat[bases[k % len(bases)]]), float(lon[bases[k % len(bases)]]))
                for k in range(n)]



    def _branch_task(self, i: int, kind: str, work_h: float, earliest_h: float = 0.0) -> Task:
        (la, lo), (lb, lob) = self.bus_location(self.from_bus[i]), self.bus_location(self.to_bus[i])
        lat, lon = (la + lb) / 2, (lo + lob) / 2
        if not math.isfinite(lat):
            lat, lon = (la, lo) if math.isfinite(la) else (lb, lob)
        return Task(("branch", i), kind, lat, lon, work_h, int(self.from_bus[i]), earliest_h,
                    str(self.grid.branch["name"][i]))

    def patrol_h(self, i: int) -> float:
        """Hours to patrol branch ``i`` (transformers: a fixed inspection)."""
        if str(self.grid.branch["kind"][i]) == "transformer":
            return self.params.transformer_inspection_h
        km = float(self.grid.branch["length_km"][i])
        if not math.isfinite(km):
            km = distance_km(*self.bus_location(self.from_bus[i]), *self.bus_location(self.to_bus[i]))
            km = km * self.params.road_factor if math.isfinite(km) else 50.0
        return km / self.params.inspection_kmh

    def _start_tasks(self, start: StartState, repairs: list[dict[str, Any]],
                     locks_h: dict[str, float]) -> None:
        need = start.branch_tripped & (self.branch_status == READY)
        if self.params.inspect == "faulted":
            need &= start.branch_faulted
        for i in np.flatnonzero(need):
            self.branch_status[i] = PATROL
            self.crews.add(self._branch_task(int(i), "patrol", self.patrol_h(int(i))))
        for name, until_h in locks_h.items():
            j = self.grid.find("branch", name)
            self.branch_ready_h[j] = max(self.branch_ready_h[j], until_h)
        for rep in repairs:
            self.damage(rep, at_h=float(rep.get("at_s", self.time_h * 3600.0)) / 3600.0,
                        why="scenario damage")
        for dmg in self.params.damage:
            self.damage(dmg, at_h=self.time_h, why="case damage (restoration data)")

    # ------------------------------------------------------------------ damage & interference
    def _elements(self, spec: dict[str, Any]) -> tuple[list[int], list[int], list[int]]:
        """(buses, branches, gens) named by a damage spec."""
        names = [str(n) for n in self.grid.bus["name"]]
        if spec.get("substation"):
            s = str(spec["substation"])
            buses = [i for i, n in enumerate(names) if n == s or n.startswith(s + " ")]
            if not buses:
                buses = [self.grid.find("bus", s)]
            brs = np.flatnonzero(np.isin(self.from_bus, buses) | np.isin(self.to_bus, buses)).tolist()
            gens = np.flatnonzero(np.isin(self.grid.gen["bus"], buses)).tolist()
            return buses, brs, gens
        element = spec.get("element")
        if spec.get("branch") or element == "branch":
            i = spec.get("position")
            i = int(i) if i is not None else self.grid.find("branch", str(spec.get("branch")
                                                                        or spec["name"]))
            return [], [i], []
        if spec.get("unit") or element == "gen":
            i = spec.get("position")
            i = int(i) if i is not None else self.grid.find("gen", str(spec.get("unit")
                                                                     or spec["name"]))
            return [], [], [i]
        return [], [], []

    def damage(self, spec: dict[str, Any], *, at_h: float, why: str) -> None:
        """Open and lock out the named elements until a crew repairs them."""
        repair_h = float(spec.get("repair_h", self.params.repair_default_h))
        buses, brs, gens = self._elements(spec)
        brs = [i for i in brs if self.branch_status[i] != NEVER]
        gens = [k for k in gens if self.unit_state[k] != UnitState.NEVER]
        for i in brs:
            self.branch_closed[i], self.branch_status[i] = False, DAMAGED
            self.crews.cancel(("branch", i))
        for k in gens:
            self.unit_state[k], self.cranking_mw[k] = UnitState.DAMAGED, 0.0
        if buses:  # one crew repairs the whole substation
            lat, lon = self.bus_location(buses[0])
            self.crews.add(Task(("sub", buses[0]), "repair", lat, lon, repair_h, buses[0],
                                at_h + repair_h, str(spec["substation"]),
                                elements=tuple([("branch", i) for i in brs]
                                               + [("gen", k) for k in gens])))
        else:
            for i in brs:
                self.crews.add(self._branch_task(i, "repair", repair_h, at_h + repair_h))
            for k in gens:
                lat, lon = self.bus_location(int(self.grid.gen["bus"][k]))
                self.crews.add(Task(("gen", k), "repair", lat, lon, repair_h,
                                    int(self.grid.gen["bus"][k]), at_h + repair_h,
                                    str(self.grid.gen["name"][k])))
        self.log("damage", f"{len(brs)} branches, {len(gens)} units out for repair "
                 f"({repair_h:g} h): {spec.get('substation') or spec.get('branch') or spec.get('unit') or spec.get('name')}",
                 why=why)

    def apply_interference(self) -> None:
        """Apply every interference whose time has come."""
        while self.interference and self.interference[0].at_h <= self.time_h + 1e-9:
            itf = self.interference.pop(0)
            if itf.collapse:
                self.collapse(itf)
            for spec in itf.damage:
                self.damage(spec, at_h=itf.at_h, why=itf.name)
            self.slowdown = max(self.slowdown, itf.slowdown_factor)
            self.reclose_fails = self.reclose_fails or itf.reclose_fails
            for sub in itf.bricked_substations:
                buses, _, _ = self._elements({"substation": sub})
                for b in buses:
                    self.bricked_bus[b] = True
                    lat, lon = self.bus_location(b)
                    self.crews.add(Task(("bus", b), "manual", lat, lon, self.params.manual_switch_h,
                                        b, 0.0, str(self.grid.bus["name"][b])))
            self.log("interference", itf.description or itf.name, why=itf.name)

    def collapse(self, itf: Interference) -> None:
        """De-energise the live islands hit by ``itf``; restoration restarts from there."""
        labels, live = self.islands()
        names = [str(n) for n in self.grid.bus["name"]]
        hit = {int(labels[i]) for i, n in enumerate(names) if live[i] and (
            not itf.collapse_buses or any(n == b or n.startswith(b + " ")
                                          for b in itf.collapse_buses))}
        buses = np.isin(labels, list(hit))
        gbus = np.asarray(self.grid.gen["bus"])
        for k in np.flatnonzero(buses[gbus] & np.isin(self.unit_state, [UnitState.ON, UnitState.STARTING])):
            self.unit_state[k], self.unit_tripped_h[k], self.cranking_mw[k] = UnitState.OFF, self.time_h, 0.0
        self.branch_closed[buses[self.from_bus] & buses[self.to_bus] & (self.branch_status != NEVER)] = False
        self.served_fraction[buses[self.load_bus]] = 0.0
        self.log("collapse", f"{int(buses.sum())} buses de-energised", why=itf.name)

    # ------------------------------------------------------------------ crews, units
    def field_work(self) -> None:
        """Collect finished crew tasks and hand out new ones (nearest to the live grid first)."""
        for task in self.crews.collect(self.time_h):
            for kind, i in task.elements or (task.key,):
                if kind == "branch" and self.branch_status[i] in (PATROL, DAMAGED):
                    self.branch_status[i] = READY
                elif kind == "gen" and self.unit_state[i] == UnitState.DAMAGED:
                    self.unit_state[i] = UnitState.OFF
                elif kind == "bus":
                    self.bricked_bus[i] = False
            self.log(task.kind + " done", task.label, why="crew")
        _, live = self.islands()
        src = np.flatnonzero(live)
        if src.size == 0:
            src = np.unique(self.grid.gen["bus"][self.black_start])
        dist = self.hops[src].min(axis=0) if src.size else np.zeros(self.grid.bus.n)
        pri: dict[tuple[str, int], float] = {}
        for key, task in self.crews.pending.items():
            b = task.bus
            if key[0] == "branch":
                b = min((int(self.from_bus[key[1]]), int(self.to_bus[key[1]])), key=lambda x: dist[x])
            pri[key] = float(dist[b]) if math.isfinite(dist[b]) else 1e6
        self.crews.assign(self.time_h, pri)

    def units(self) -> None:
        """Black starts, units coming on line."""
        labels, live = self.islands()
        gbus = np.asarray(self.grid.gen["bus"])
        bs = self.black_start
        for k in np.flatnonzero(self.unit_state == UnitState.OFF):
            if bs[k] and not live[gbus[k]]:
                self.unit_state[k], self.unit_ready_h[k] = UnitState.STARTING, self.time_h + self.params.black_start_h
                self.log("black start", str(self.grid.gen["name"][k]), why="dead bus")
        for k in np.flatnonzero(self.unit_state == UnitState.STARTING):
            if not bs[k] and not live[gbus[k]]:
                self.unit_state[k], self.cranking_mw[k] = UnitState.OFF, 0.0
            elif self.time_h + 1e-9 >= self.unit_ready_h[k]:
                self.unit_state[k], self.unit_on_since_h[k], self.cranking_mw[k] = UnitState.ON, self.time_h, 0.0
                self.log("unit on line", str(self.grid.gen["name"][k]), why="started")
        del labels




    def balance(self) -> None:
        """Dispatch every island; shed lowest-priority load where capacity fell short."""
        labels, live = self.islands()
        for lab in np.unique(labels[live]):
            units = self.island_units(labels, int(lab))
            cap = self.capacity(units)
            load = self.island_load(labels, int(lab))
            if load > cap.sum() + 1e-6:
                self.shed(labels, int(lab), load - float(cap.sum()))
                load = self.island_load(labels, int(lab))
            self.output_mw[units] = cap * (load / cap.sum()) if cap.sum() > 0 else 0.0

    def shed(self, labels: np.ndarray, lab: int, mw: float) -> None:
        """Disconnect ``mw`` of the lowest-priority load of island ``lab``."""
        idx = np.flatnonzero((labels[self.load_bus] == lab) & (self.served_fraction > 0))
        for i in idx[np.argsort(self.priority[idx], kind="stable")]:
            if mw <= 1e-9:
                break
            cut = min(mw, self.demand_mw[i] * self.served_fraction[i])
            self.served_fraction[i] -= cut / self.demand_mw[i] if self.demand_mw[i] > 0 else self.served_fraction[i]
            mw -= cut
        self.log("shed", f"island short of capacity by {mw:.0f} MW left", why="balance")

    def burn_fuel(self, step_h: float) -> None:
        """Units with limited fuel burn it at their output; empty ones stop."""
        self.fuel_mwh -= np.where(self.unit_state == UnitState.ON, self.output_mw, 0.0) * step_h
        for k in np.flatnonzero((self.fuel_mwh <= 0) & (self.unit_state == UnitState.ON)):
            self.unit_state[k] = UnitState.NEVER
            self.log("out of fuel", str(self.grid.gen["name"][k]), why="fuel")


    # ------------------------------------------------------------------ control rooms
    def operate(self) -> None:
        """Each live island spends the step's dispatcher minutes on switching and pickup."""
        operate_islands(self)



