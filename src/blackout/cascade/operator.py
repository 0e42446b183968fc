"""A control-room operator who relieves overloads that protection leaves standing.

When a branch stays above its normal rating (``rate_a``) for ``delay_s``, the operator
acts on DC sensitivities of the branch flow (power transfer distribution factors
computed for the branch's island, with the island's governors as distributed slack):

1. emergency redispatch: raise the unit whose injection relieves the branch most and
   lower the unit that aggravates it most, pair by pair, within [0, pmax_mw];
2. manual load shedding at the buses whose load reduction relieves the branch most.

Each action is an event with cause "operator" (``set_p`` or ``shed``). The operator
acts again after another ``delay_s`` if the overload persists. This is deliberately
simple (no OPF): the aim is that slow, mild overloads are relieved, not tripped, as in
practice, while fast cascades outrun the operator.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csc_matrix
from scipy.sparse.linalg import splu

from blackout.cascade.islands import IslandTracker
from blackout.cascade.settings import OperatorSettings
from blackout.cascade.state import CascadeState
from blackout.events import Event
from blackout.flow import PowerFlowResult
from blackout.flow.dc import dc_matrices
from blackout.flow.network import build_network, submatrix
from blackout.grid.model import Grid

__all__ = ["Operator"]


class Operator:
    """Watches branches above rate_a and relieves them after a delay."""

    def __init__(self, grid: Grid, settings: OperatorSettings, state: CascadeState,
                 tracker: IslandTracker) -> None:
        self.grid, self.settings, self.state, self.tracker = grid, settings, state, tracker
        self.since: dict[int, float] = {}
        self.cause: dict[int, int | None] = {}
        self.ratio_a = np.zeros(grid.branch.n)
        self.p_from = np.zeros(grid.branch.n)
        self.gen_p = np.zeros(grid.gen.n)

    def observe(self, t: float, flow: PowerFlowResult, ratio_a: np.ndarray,
                last_event: int | None) -> None:
        """Start or stop the overload watch of each branch."""
        if not self.settings.enabled:
            return
        self.ratio_a = ratio_a
        self.p_from = flow.branch["p_from_mw"]
        self.gen_p = flow.gen["p_mw"]
        over = set(np.flatnonzero(ratio_a > 1.0).tolist())
        for b in over - set(self.since):
            self.since[b] = t
            self.cause[b] = last_event
        for b in set(self.since) - over:
            self.since.pop(b)

    def deadlines(self) -> list[float]:
        """When the operator will next act."""
        return [s + self.settings.delay_s for s in self.since.values()]

    def actions_due(self, t: float) -> list[Event]:
        """Redispatch and shedding events for branches overloaded for ``delay_s``."""
        due = [b for b in self.since if self.since[b] + self.settings.delay_s <= t + 1e-9]
        if not due:
            return []
        # one branch at a time (the worst): the next power flow shows what is left
        worst = max(due, key=lambda b: (self.ratio_a[b], -b))
        self.since[worst] = t  # look again after another delay
        return self._relieve(t, worst)

    def _relieve(self, t: float, b: int) -> list[Event]:
        ptdf, buses = self._ptdf_row(b)
        if ptdf is None:
            return []
        rate = float(self.grid.branch["rate_a_mva"][b] * self.state.rating_factor[b])
        excess = (self.ratio_a[b] - 0.98) * rate
        sign = 1.0 if self.p_from[b] >= 0 else -1.0
        sens = np.zeros(self.grid.bus.n)
        sens[buses] = sign * ptdf  # d|flow| / d(injection at bus), slack-referenced
        name = str(self.grid.branch["name"][b])
        cause = self.cause.get(b)
        out: list[Event] = []
        if self.settings.redispatch:
            excess, events = self._redispatch(t, b, sens, buses, excess, name, cause)
            out += events
        if self.settings.manual_shed and excess > 0:
            out += self._shed(t, sens, buses, excess, name, cause)
        return out

    def _redispatch(self, t: float, b: int, sens: np.ndarray, buses: np.ndarray, excess: float,
                    name: str, cause: int | None) -> tuple[float, list[Event]]:
        grid = self.grid
        in_island = np.zeros(grid.bus.n, dtype=bool)
        in_island[buses] = True
        gbus = grid.gen["bus"]
        gens = np.flatnonzero(self.state.flow.gen_in & in_island[gbus])
        p = self.gen_p.copy()
        pmax = np.asarray(grid.gen["pmax_mw"], dtype=float)
        s = sens[gbus]
        up = sorted(gens.tolist(), key=lambda g: s[g])        # most relieving first
        down = sorted(gens.tolist(), key=lambda g: -s[g])     # most aggravating first
        moved: dict[int, float] = {}
        for g_up in up:
            for g_dn in down:
                gain = s[g_dn] - s[g_up]  # relief per MW moved from g_dn to g_up
                if excess <= 0 or gain < self.settings.min_sensitivity:
                    break
                amount = min(pmax[g_up] - p[g_up], p[g_dn], excess / gain)
                if amount <= 1e-6:
                    continue
                p[g_up] += amount
                p[g_dn] -= amount
                moved[g_up] = p[g_up]
                moved[g_dn] = p[g_dn]
                excess -= amount * gain
        events = [Event(t, "gen", g, "set_p", "operator", float(v), cause,
                        {"mechanism": "operator",
                         "why": f"emergency redispatch to {v:.0f} MW to relieve {name}"})
                  for g, v in sorted(moved.items())]
        return excess, events

    def _shed(self, t: float, sens: np.ndarray, buses: np.ndarray, excess: float, name: str,
              cause: int | None) -> list[Event]:
        lbus = self.grid.load["bus"]
        live = np.flatnonzero(np.isin(lbus, buses) & (self.state.flow.load_p_mw > 0))
        relief = -sens[lbus[live]]  # shedding = raising the bus injection
        order = live[np.argsort(-relief)]
        out = []
        for ld in order.tolist():
            r = -sens[lbus[ld]]
            if excess <= 0 or r < self.settings.min_sensitivity:
                break
            mw = min(float(self.state.flow.load_p_mw[ld]), excess / r)
            frac = mw / float(self.state.demand_mw[ld])
            excess -= mw * r
            out.append(Event(t, "load", ld, "shed", "operator", frac, cause,
                             {"mechanism": "operator", "mw": mw,
                              "why": f"manual shedding of {mw:.0f} MW to relieve {name}"}))
        return out

    def _ptdf_row(self, b: int) -> tuple[np.ndarray | None, np.ndarray]:
        """Flow sensitivity of branch ``b`` to injections at its island's buses (DC)."""
        net = build_network(self.grid, self.state.flow)
        pos = np.flatnonzero(net.live == b)
        if pos.size == 0:
            return None, np.zeros(0, dtype=np.int64)
        bbus, bf, _, _ = dc_matrices(self.grid, net)
        label = net.labels[int(self.grid.branch["from_bus"][b])]
        buses = np.flatnonzero(net.labels == label)
        if buses.size < 2:
            return None, buses
        keep = buses[1:]  # reference: the island's first bus
        b_red = csc_matrix(submatrix(bbus.tocsr(), keep))
        row = np.asarray(bf.tocsr()[pos[0]][:, keep].todense()).ravel()
        try:
            y = splu(b_red).solve(row)
        except RuntimeError:
            return None, buses
        ptdf = np.r_[0.0, y]
        # distributed slack: the island's governors take up what a bus injects
        gbus = self.grid.gen["bus"]
        local = {int(x): i for i, x in enumerate(buses.tolist())}
        gens = [g for g in np.flatnonzero(self.state.flow.gen_in).tolist()
                if int(gbus[g]) in local]
        if gens:
            w = self.tracker.gain_mw(np.array(gens))
            if w.sum() > 0:
                ptdf = ptdf - float(np.dot(w / w.sum(), ptdf[[local[int(gbus[g])] for g in gens]]))
        return ptdf, buses
