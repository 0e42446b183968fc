"""Under-voltage trips of generating units: each unit's own stages, timed on the voltage
at its bus in the cascade's AC power flows.

A unit trips once the voltage at its bus has stayed below one of its stages'
thresholds (pu of nominal) for that stage's delay; the stages come by kind from
``physics/data/unit_trips.toml`` and lie outside NERC PRC-024-2's low-voltage
ride-through table (:func:`blackout.physics.unit_trips.voltage_stages`). The voltage
seen is the one the quasi-steady AC flow gives at the unit's bus (the high side of its
step-up transformer, where PRC-024 states its table).

A timer runs only across AC solutions: a step whose flows are DC (DC mode, or DC
standing in for an AC flow with no solution) has no voltage, so the timers stop and
restart at the next AC solution below the threshold. Without reactive limits every unit
holds its voltage setpoint, so its own bus never sags and these stages cannot act; the
engine says so in ``modelling_notes`` (:meth:`UnitVoltageRelays.notes`).
"""

from __future__ import annotations

import numpy as np

from blackout.events import Event
from blackout.flow import PowerFlowResult
from blackout.grid.model import Grid
from blackout.physics.unit_trips import VoltageStage

__all__ = ["UnitVoltageRelays"]

_EPS = 1e-9


class UnitVoltageRelays:
    """The under-voltage timers of every unit (one per unit and stage)."""

    def __init__(self, grid: Grid, stages: list[VoltageStage]) -> None:
        self.grid = grid
        self.stages = stages
        self.gen_bus = np.asarray(grid.gen["bus"])
        self.since = np.full((len(stages), grid.gen.n), np.nan)   # s, start of the sag
        self.cause: dict[tuple[int, int], int | None] = {}
        self.vm_pu = np.ones(grid.gen.n)                        # at the last AC solution

    @staticmethod
    def notes(*, stages: bool, mode: str, q_limits: bool) -> list[str]:
        """What the engine must say about these relays in this run's settings."""
        if not stages:
            return []
        if mode == "dc":
            return ["DC mode has no voltages: under-voltage unit trips are not modelled"]
        if not q_limits:
            return ["reactive limits are off, so every unit holds its voltage setpoint and "
                    "its own under-voltage protection cannot act"]
        return []

    def observe(self, t: float, flow: PowerFlowResult, gen_in: np.ndarray,
                last_event: int | None) -> None:
        """Start or stop each unit's timers from the voltages of one AC solution."""
        if flow.mode != "ac":
            self.since[:] = np.nan       # no voltage in a DC step: timers stop
            return
        vm = np.asarray(flow.bus["vm_pu"], dtype=float)[self.gen_bus]
        live = np.asarray(gen_in, dtype=bool) & np.asarray(flow.bus["energized"])[self.gen_bus]
        self.vm_pu = vm
        for k, st in enumerate(self.stages):
            g = np.asarray(st.gens, dtype=np.int64)
            low = live[g] & (vm[g] < st.threshold_pu)
            start = g[low & np.isnan(self.since[k, g])]
            self.since[k, start] = t
            for u in start.tolist():
                self.cause[(k, u)] = last_event
            self.since[k, g[~low]] = np.nan

    def deadlines(self) -> list[float]:
        """Times at which a running timer expires (if nothing changes before)."""
        delay = np.array([st.delay_s for st in self.stages])[:, None]
        due = self.since + delay
        finite = due[np.isfinite(due)]
        return [float(finite.min())] if finite.size else []

    def actions_due(self, t: float, gen_in: np.ndarray) -> list[Event]:
        """Trip events of the units whose under-voltage timer has run out at ``t``."""
        out: list[Event] = []
        tripping: set[int] = set()
        for k, st in enumerate(self.stages):
            due = np.flatnonzero(self.since[k] + st.delay_s <= t + _EPS)
            for u in due.tolist():
                if u in tripping or not gen_in[u]:
                    continue
                tripping.add(u)
                vm = float(self.vm_pu[u])
                why = (f"under-voltage ({vm:.3f} pu at its bus; below the unit's "
                       f"{st.threshold_pu:.2f} pu setting for {t - self.since[k, u]:.1f} s, "
                       f"delay {st.delay_s:g} s)")
                out.append(Event(t, "gen", u, "trip", "under-voltage", None,
                                 self.cause.get((k, u)),
                                 {"voltage_pu": vm, "threshold_pu": st.threshold_pu,
                                  "delay_s": st.delay_s,
                                  "unit_kind": str(self.grid.gen["kind"][u]),
                                  "mechanism": "unit_trip_under_voltage", "why": why}))
        for u in tripping:
            self.since[:, u] = np.nan
        return out
