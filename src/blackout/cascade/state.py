"""The mutable state of one cascade, beside the immutable Grid.

Status vectors and setpoints (a :class:`~blackout.flow.FlowState`), the demand each
load had before the cascade, the fraction of it still connected, rating multipliers
(derating) and blocked relays. :meth:`CascadeState.apply` turns an :class:`Event`
into status flips; it is the only place where events change the state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blackout.errors import BlackoutError
from blackout.events import Event
from blackout.flow import FlowState
from blackout.grid.model import Grid

__all__ = ["CascadeState", "resolve_element"]

_TABLES = ("branch", "gen", "load", "bus", "region")


@dataclass
class CascadeState:
    """Status of every element during a cascade.

    flow : status vectors and setpoints handed to the power flow.
    demand_mw : each load's demand at nominal frequency before the cascade, MW.
    connected : fraction of each load's demand still connected (after shedding).
    rating_factor : multiplier of each branch's ratings (``derate`` events).
    relay_blocked : branches whose protection is disabled.
    ufls_blocked : regions whose UFLS is disabled (index -1: loads without a region).
    """

    grid: Grid
    flow: FlowState
    demand_mw: np.ndarray
    demand_q_mvar: np.ndarray
    connected: np.ndarray
    rating_factor: np.ndarray
    relay_blocked: np.ndarray
    ufls_blocked: np.ndarray

    @classmethod
    def of(cls, grid: Grid) -> CascadeState:
        """The pre-cascade state of ``grid``."""
        flow = FlowState.of(grid)
        return cls(grid=grid, flow=flow, demand_mw=flow.load_p_mw.copy(),
                   demand_q_mvar=flow.load_q_mvar.copy(),
                   connected=np.where(grid.load["in_service"], 1.0, 0.0),
                   rating_factor=np.ones(grid.branch.n),
                   relay_blocked=np.zeros(grid.branch.n, dtype=bool),
                   ufls_blocked=np.zeros(grid.region.n + 1, dtype=bool))

    def set_load_fraction(self, loads: np.ndarray, fraction: np.ndarray | float) -> None:
        """Set the connected fraction of ``loads`` and the flow setpoints with it."""
        self.connected[loads] = np.clip(fraction, 0.0, 1.0)
        self.flow.load_p_mw[loads] = self.demand_mw[loads] * self.connected[loads]
        self.flow.load_q_mvar[loads] = self.demand_q_mvar[loads] * self.connected[loads]

    def apply(self, event: Event) -> bool:
        """Apply ``event``; True when it changed the network or the power balance."""
        kind, el, action = event.kind, event.element, event.action
        if kind not in _TABLES + ("relay", "ufls", "island"):
            raise BlackoutError(f"event on unknown element kind {kind!r}")
        if action in ("trip", "close"):
            on = action == "close"
            status = {"branch": self.flow.branch_in, "gen": self.flow.gen_in,
                      "bus": self.flow.bus_in}.get(kind)
            if status is not None:
                before = bool(status[el])
                status[el] = on
                return before != on
            if kind == "load":
                self.set_load_fraction(np.array([el]), 1.0 if on else 0.0)
                return True
            raise BlackoutError(f"cannot {action} a {kind}")
        if action == "derate":
            self.rating_factor[el] = float(event.value if event.value is not None else 1.0)
            return False
        if action == "set_p":
            self.flow.gen_p_mw[el] = float(event.value or 0.0)
            return True
        if action in ("shed", "restore"):
            frac = float(event.value if event.value is not None else 1.0)
            loads = np.array([el]) if kind == "load" else np.array(event.detail.get("loads", []),
                                                                  dtype=np.int64)
            if loads.size:
                sign = -1.0 if action == "shed" else 1.0
                self.set_load_fraction(loads, self.connected[loads] + sign * frac)
            return True
        if action in ("block_relay", "unblock_relay"):
            blocked = action == "block_relay"
            if el < 0:
                self.relay_blocked[:] = blocked
            else:
                self.relay_blocked[el] = blocked
            return False
        if action == "block_ufls":
            if el < 0 or kind != "region":
                self.ufls_blocked[:] = True
            else:
                self.ufls_blocked[el] = True
            return False
        return False  # set_droop: read by the frequency model


def resolve_element(grid: Grid, name: str) -> tuple[str, int]:
    """(kind, position) of an element name (branch, gen, bus or load)."""
    return grid.find_any(name)
